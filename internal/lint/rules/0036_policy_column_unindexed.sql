-- id: 0036
-- name: policy_column_unindexed
-- level: info
-- category: performance
-- title: Column used by policies without an index
-- description: A column that policies compare (the table's own columns, and the columns of tables their
--   sub-queries read) is not the first column of any index. Every query under the policy then filters
--   by a sequential scan; with an index, user_id = auth.uid() costs what a hand-written WHERE does.
--   Boolean columns are left out.
-- remediation: create index on ... (column); for multi-tenant tables an index starting with the tenant
--   column often serves every policy.
select n.nspname || '.' || c.relname || '.' || a.attname as object,
       'column' as object_type,
       'used by ' || string_agg(distinct pn.nspname || '.' || pc.relname || '.' || p.polname, ', ') ||
       '; no index starts with it' as detail
from pg_policy p
join pg_class pc on pc.oid = p.polrelid
join pg_namespace pn on pn.oid = pc.relnamespace
join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = p.oid and d.refclassid = 'pg_class'::regclass
                and d.refobjsubid > 0
join pg_class c on c.oid = d.refobjid and c.relkind in ('r', 'p')
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum = d.refobjsubid
join pg_type t on t.oid = a.atttypid
where t.typcategory <> 'B'
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and not exists (select 1 from pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum)
group by n.nspname, c.relname, a.attname
