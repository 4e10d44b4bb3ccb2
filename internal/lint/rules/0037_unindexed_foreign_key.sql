-- id: 0037
-- name: unindexed_foreign_key
-- level: info
-- category: performance
-- title: Foreign key without an index
-- description: No index (without a predicate) starts with one of the referencing columns of a foreign
--   key. Each delete or key update of a referenced row scans this table (and holds its locks longer),
--   and joins along the key cannot use an index. An index starting with any of the key's columns counts
--   (for a composite key such as (service_id, business_id), an index on service_id serves the lookups).
-- remediation: create index on ... (the foreign key's columns).
select n.nspname || '.' || c.relname || '.' || k.conname as object,
       'constraint' as object_type,
       'foreign key (' || (select string_agg(a.attname, ', ' order by x.ord) from unnest(k.conkey) with ordinality x(att, ord)
                           join pg_attribute a on a.attrelid = k.conrelid and a.attnum = x.att) ||
       ') references ' || rn.nspname || '.' || rc.relname || '; no index starts with any of these columns' as detail
from pg_constraint k
join pg_class c on c.oid = k.conrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_class rc on rc.oid = k.confrelid
join pg_namespace rn on rn.oid = rc.relnamespace
where k.contype = 'f'
  and k.conparentid = 0
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  -- an index whose leading column is one of the key's columns serves the lookups
  and not exists (
    select 1 from pg_index i
    where i.indrelid = k.conrelid and i.indpred is null
      and i.indkey[0] = any(k.conkey))
