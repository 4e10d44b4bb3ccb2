-- id: 0003
-- name: policy_exists_rls_disabled
-- level: error
-- category: security
-- title: Policies on a table whose row level security is off
-- description: The table has policies but row level security is disabled, so none of them is applied:
--   whoever holds a privilege sees and changes every row. Usually an "enable row level security" was
--   forgotten or dropped.
-- remediation: alter table ... enable row level security (or drop the policies if they are obsolete).
select n.nspname || '.' || c.relname as object,
       case c.relkind when 'p' then 'partitioned table' else 'table' end as object_type,
       'row level security is off, so its policies (' || string_agg(p.polname, ', ' order by p.polname) ||
       ') are not applied' as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_policy p on p.polrelid = c.oid
where c.relkind in ('r', 'p')
  and not c.relrowsecurity
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
group by n.nspname, c.relname, c.relkind
