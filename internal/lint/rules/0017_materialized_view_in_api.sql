-- id: 0017
-- name: materialized_view_in_api
-- level: error
-- category: security
-- title: Materialized view readable by API roles
-- description: A materialized view in an exposed schema is readable by an API role. Materialized views
--   ignore row level security (and do not accept security_invoker): every row they hold is readable by
--   whoever holds SELECT, whatever the policies of the tables they were built from.
-- remediation: revoke select on ... from anon, authenticated; move it to a schema the API does not
--   expose and serve it through a security_invoker view or a function that filters by the caller.
select n.nspname || '.' || c.relname as object,
       'materialized view' as object_type,
       'readable by ' || string_agg(r.rolname, ', ' order by r.rolname) ||
       '; materialized views ignore row level security' as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_roles r on r.rolname = any($2::text[])
 and ((has_table_privilege(r.oid, c.oid, 'SELECT') and pg_temp.dbtool_usage(r.oid, c.relnamespace)) or (has_any_column_privilege(r.oid, c.oid, 'SELECT') and pg_temp.dbtool_usage(r.oid, c.relnamespace)))
where c.relkind = 'm'
  and n.nspname = any($1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
group by n.nspname, c.relname
