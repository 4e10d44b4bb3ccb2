-- id: 0002
-- name: rls_disabled_no_api_grants
-- level: info
-- category: security
-- title: Table in an exposed schema without row level security
-- description: A table in an exposed schema has row level security off. No API role holds a privilege on
--   it today, so it is closed; but a later grant (or a default privilege) would expose every row at once.
-- remediation: Enable row level security so that a future grant does not expose the table, or move the
--   table to a schema the API does not expose.
select n.nspname || '.' || c.relname as object,
       case c.relkind when 'p' then 'partitioned table' else 'table' end as object_type,
       'row level security is off; no API role (' || array_to_string($2::text[], ', ') ||
       ') holds a privilege on it today' as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[])
  and c.relkind in ('r', 'p')
  and not c.relispartition
  and not c.relrowsecurity
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
  and not exists (
    select 1
    from pg_roles r
    cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
    where r.rolname = any($2::text[])
      and ((has_table_privilege(r.oid, c.oid, p.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace))
           or (p.priv in ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') and (has_any_column_privilege(r.oid, c.oid, p.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace)))))
