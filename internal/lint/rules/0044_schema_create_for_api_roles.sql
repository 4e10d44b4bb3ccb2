-- id: 0044
-- name: schema_create_for_api_roles
-- level: warn
-- category: security
-- title: API roles may create objects in an exposed schema
-- description: PUBLIC, anon or authenticated holds CREATE on a schema the API serves (GRANT ALL ON SCHEMA
--   public TO PUBLIC, the pre-PostgreSQL-15 default). A role that can create objects there can plant a
--   function or operator that a SECURITY DEFINER routine without a fixed search_path resolves to, or a
--   table that shadows one. No API request runs DDL by itself, so the level contract says warn: it needs
--   a login as that role or a routine that runs DDL for the caller.
-- remediation: revoke create on schema <schema> from public, anon, authenticated;
select n.nspname as object,
       'schema' as object_type,
       string_agg(x.who, ', ' order by x.who) || ' may CREATE in it' as detail
from pg_namespace n
cross join lateral (
  select 'PUBLIC' as who where exists (select 1 from aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                                       where a.grantee = 0 and a.privilege_type = 'CREATE')
  union all
  select r.rolname from pg_roles r
  where r.rolname = any($2::text[]) and has_schema_privilege(r.oid, n.oid, 'CREATE')
) x
where n.nspname = any($1::text[])
group by n.nspname
