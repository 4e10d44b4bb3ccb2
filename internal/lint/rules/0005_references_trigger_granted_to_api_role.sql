-- id: 0005
-- name: references_trigger_granted_to_api_role
-- level: info
-- category: security
-- title: REFERENCES or TRIGGER granted to API roles (no API request can use them)
-- description: API roles hold REFERENCES or TRIGGER on tables of an exposed schema. Both need DDL (a
--   foreign key, a trigger) that no API request can run, and Supabase's default privileges grant them on
--   every new table: one finding per schema, hygiene. Level contract: info.
-- remediation: revoke references, trigger on all tables in schema <schema> from anon, authenticated; and
--   change the default privileges the same way.
select n.nspname as object,
       'schema' as object_type,
       x.roles || ' hold ' || x.privs || ' on ' || count(*) || ' table' || case when count(*) > 1 then 's' else '' end || ' (' ||
       string_agg(c.relname, ', ' order by c.relname) || '); no API request can use them' as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
cross join lateral (
  select string_agg(distinct r.rolname, ', ') as roles,
         string_agg(distinct p.priv || case when (has_table_privilege(r.oid, c.oid, p.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace)) then '' else ' (some columns)' end, ', ') as privs
  from pg_roles r
  cross join unnest(array['REFERENCES', 'TRIGGER']) p(priv)
  where r.rolname = any($2::text[])
    and ((has_table_privilege(r.oid, c.oid, p.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace))
         or (p.priv = 'REFERENCES' and (has_any_column_privilege(r.oid, c.oid, p.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace))))
) x
where n.nspname = any($1::text[])
  and c.relkind in ('r', 'p') and not c.relispartition
  and x.roles is not null
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
group by n.nspname, x.roles, x.privs
