-- id: 0007
-- name: default_privileges_grant_to_api_role
-- level: info
-- category: security
-- title: Default privileges grant table privileges to API roles
-- description: Default privileges (alter default privileges ... grant ... on tables) give API roles
--   privileges on every table created later in an exposed schema. A new table is then exposed the moment
--   it is created, before anyone writes its policies; a new partition is exposed directly. Supabase sets
--   such defaults in public: keep row level security on every table if you keep them.
-- remediation: alter default privileges [for role ...] [in schema ...] revoke ... on tables from anon,
--   authenticated; grant explicitly, table by table, next to the policies.
select s.schema as object,
       'schema' as object_type,
       'default privileges of role ' || pg_get_userbyid(d.defaclrole) ||
       case when d.defaclnamespace = 0 then ' (for every schema)' else '' end ||
       ' grant ' || string_agg(distinct a.privilege_type, ', ') || ' on new tables to ' ||
       case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end as detail
from pg_default_acl d
cross join lateral aclexplode(d.defaclacl) a
left join pg_namespace n on n.oid = d.defaclnamespace
cross join lateral (
  select n.nspname as schema where d.defaclnamespace <> 0 and n.nspname = any($1::text[])
  union all
  select x from unnest($1::text[]) x where d.defaclnamespace = 0
) s
where d.defaclobjtype = 'r'
  and (a.grantee = 0 or pg_get_userbyid(a.grantee) = any($2::text[]))
group by s.schema, d.defaclrole, d.defaclnamespace, a.grantee
