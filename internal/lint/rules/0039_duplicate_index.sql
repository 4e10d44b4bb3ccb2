-- id: 0039
-- name: duplicate_index
-- level: info
-- category: performance
-- title: Duplicate index
-- description: Two indexes of a table have the same columns, expressions, operator classes, collations
--   and predicate. Every write maintains both; one of them is never needed. The one reported is the one
--   to drop: an index that backs no constraint, and the non-unique one when only one is unique.
-- remediation: drop index ... (the reported one).
with ix as (
  select i.indexrelid, i.indrelid, i.indisunique, ci.relam,
         i.indkey::text as keys, i.indclass::text as classes, i.indcollation::text as collations,
         coalesce(pg_get_expr(i.indexprs, i.indrelid), '') as exprs, coalesce(pg_get_expr(i.indpred, i.indrelid), '') as pred,
         exists (select 1 from pg_constraint k where k.conindid = i.indexrelid and k.contype in ('p', 'u', 'x')) as backs_constraint,
         n.nspname, ci.relname, c.relname as table_name
  from pg_index i
  join pg_class ci on ci.oid = i.indexrelid
  join pg_class c on c.oid = i.indrelid
  join pg_namespace n on n.oid = c.relnamespace
  where pg_temp.dbtool_project_schema(n.nspname, $1::text[])
)
select x.nspname || '.' || x.relname as object,
       'index' as object_type,
       'duplicates ' || string_agg(y.nspname || '.' || y.relname, ', ' order by y.relname) || ' on ' || x.nspname || '.' || x.table_name as detail
from ix x
join ix y on y.indrelid = x.indrelid and y.indexrelid <> x.indexrelid and y.relam = x.relam
         and y.keys = x.keys and y.classes = x.classes and y.collations = x.collations
         and y.exprs = x.exprs and y.pred = x.pred
         -- y is the one to keep
         and (y.backs_constraint, y.indisunique, -y.indexrelid::bigint) > (x.backs_constraint, x.indisunique, -x.indexrelid::bigint)
group by x.nspname, x.relname, x.table_name
