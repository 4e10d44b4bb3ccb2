-- id: 0048
-- name: index_left_prefix
-- level: info
-- category: performance
-- title: Index that is a left prefix of another index of the table
-- description: Every column of this b-tree index, in order, starts another b-tree index of the same table
--   (same operator classes and collations, no predicate and no expressions on either): the longer index
--   answers the same lookups and orders. Every write maintains both. Not reported when the shorter index
--   is unique or backs a constraint (it enforces something the longer one does not). Exact duplicates are
--   rule 0039.
-- remediation: drop index ... (the reported one), after checking that no query needs its smaller size.
with ix as (
  select i.indexrelid, i.indrelid, i.indisunique, ci.relam, i.indnkeyatts,
         string_to_array(i.indkey::text, ' ')::int[] as keys,
         string_to_array(i.indclass::text, ' ')::oid[] as classes,
         string_to_array(i.indcollation::text, ' ')::oid[] as collations,
         i.indexprs is null and i.indpred is null as plain,
         exists (select 1 from pg_constraint k where k.conindid = i.indexrelid) as backs_constraint,
         n.nspname, ci.relname, c.relname as table_name
  from pg_index i
  join pg_class ci on ci.oid = i.indexrelid
  join pg_class c on c.oid = i.indrelid
  join pg_namespace n on n.oid = c.relnamespace
  join pg_am am on am.oid = ci.relam and am.amname = 'btree'
  where i.indisvalid
    and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
)
select x.nspname || '.' || x.relname as object,
       'index' as object_type,
       'its columns start ' || string_agg(y.nspname || '.' || y.relname, ', ' order by y.relname) || ' on ' || x.nspname || '.' || x.table_name as detail
from ix x
join ix y on y.indrelid = x.indrelid and y.indexrelid <> x.indexrelid and y.relam = x.relam
         and y.plain and x.plain
         and y.indnkeyatts > x.indnkeyatts
         and y.keys[1:x.indnkeyatts] = x.keys[1:x.indnkeyatts]
         and y.classes[1:x.indnkeyatts] = x.classes[1:x.indnkeyatts]
         and y.collations[1:x.indnkeyatts] = x.collations[1:x.indnkeyatts]
where not x.indisunique and not x.backs_constraint
  and array_length(x.keys, 1) = x.indnkeyatts -- no INCLUDE columns on the shorter one
group by x.nspname, x.relname, x.table_name
