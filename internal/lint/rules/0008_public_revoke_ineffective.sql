-- id: 0008
-- name: public_revoke_ineffective
-- level: warn
-- category: security
-- title: EXECUTE revoked from PUBLIC but still held by API roles
-- description: The function's EXECUTE was revoked from PUBLIC, yet API roles still hold it, given by
--   default privileges (Supabase grants EXECUTE on new functions in public to anon and authenticated).
--   "revoke ... from public" alone does not close the function to the API.
-- remediation: revoke execute on function ... from public, anon (and authenticated when only some
--   callers may use it), then grant execute to the roles that need it.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'EXECUTE is revoked from PUBLIC but ' || string_agg(r.rolname, ', ' order by r.rolname) ||
       ' still hold it (granted by the default privileges of role ' || pg_get_userbyid(p.proowner) || ')' as detail
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_roles r on r.rolname = any($2::text[])
where n.nspname = any($1::text[])
  and p.proacl is not null
  and not exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE')
  and exists (select 1 from aclexplode(p.proacl) a where a.grantee = r.oid and a.privilege_type = 'EXECUTE')
  -- the grant matches a default privilege of the owner ...
  and exists (
    select 1 from pg_default_acl d cross join lateral aclexplode(d.defaclacl) a
    where d.defaclobjtype = 'f' and d.defaclrole = p.proowner and d.defaclnamespace in (0, p.pronamespace)
      and a.grantee = r.oid and a.privilege_type = 'EXECUTE')
  -- ... and every API role those defaults grant still holds it: only PUBLIC was revoked
  and not exists (
    select 1 from pg_default_acl d cross join lateral aclexplode(d.defaclacl) a
    join pg_roles dr on dr.oid = a.grantee and dr.rolname = any($2::text[])
    where d.defaclobjtype = 'f' and d.defaclrole = p.proowner and d.defaclnamespace in (0, p.pronamespace)
      and a.privilege_type = 'EXECUTE'
      and not exists (select 1 from aclexplode(p.proacl) b where b.grantee = a.grantee and b.privilege_type = 'EXECUTE'))
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes, p.proowner
