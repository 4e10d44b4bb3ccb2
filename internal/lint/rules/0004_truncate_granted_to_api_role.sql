-- id: 0004
-- name: truncate_granted_to_api_role
-- level: info
-- category: security
-- title: TRUNCATE granted to API roles (no API request can use it)
-- description: API roles hold TRUNCATE on tables of an exposed schema. Row level security does not apply
--   to TRUNCATE, but no API request can truncate: PostgREST has no such operation, and anon and
--   authenticated cannot log in. Supabase's default privileges grant it on every new table, so this is
--   one finding per schema (hygiene: a future SECURITY INVOKER function that truncates would run it for
--   any caller), not an exploitable defect. Level contract: info.
-- remediation: revoke truncate on all tables in schema <schema> from anon, authenticated; and change the
--   default privileges (alter default privileges in schema <schema> revoke truncate on tables from anon, authenticated).
select n.nspname as object,
       'schema' as object_type,
       x.roles || ' hold TRUNCATE on ' || count(*) || ' table' || case when count(*) > 1 then 's' else '' end || ' (' ||
       string_agg(c.relname, ', ' order by c.relname) || '); no API request can truncate, revoke it: revoke truncate on all tables in schema ' ||
       quote_ident(n.nspname) || ' from ' || x.roles as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
cross join lateral (
  select string_agg(r.rolname, ', ' order by r.rolname) as roles
  from pg_roles r
  where r.rolname = any($2::text[]) and (has_table_privilege(r.oid, c.oid, 'TRUNCATE') and pg_temp.dbtool_usage(r.oid, c.relnamespace))
) x
where n.nspname = any($1::text[])
  and c.relkind in ('r', 'p') and not c.relispartition
  and x.roles is not null
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
group by n.nspname, x.roles
