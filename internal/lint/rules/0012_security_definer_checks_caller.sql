-- id: 0012
-- name: security_definer_checks_caller
-- level: info
-- category: security
-- title: SECURITY DEFINER RPC for signed-in users that checks the caller
-- description: A SECURITY DEFINER function in an exposed schema is executable by signed-in API roles
--   (not anon, not PUBLIC) and its body checks the caller. This is the intended pattern; it is listed so
--   that every definer RPC gets a reviewer's look at what the check covers.
-- remediation: None needed when the check covers every row the function touches. Keep the function's
--   grants explicit (revoke from public, grant to authenticated).
with fn as (
  select p.oid, n.nspname, p.proname, p.proargtypes, p.proowner,
         exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                 where a.grantee = 0 and a.privilege_type = 'EXECUTE') as public_exec,
         regexp_replace(regexp_replace(case when p.prosqlbody is not null then pg_get_functiondef(p.oid) else p.prosrc end,
                                       '--[^\n]*', '', 'g'), '/\*.*?\*/', '', 'g') as body
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  where p.prosecdef
    and p.prokind in ('f', 'p')
    and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)
    and n.nspname = any($1::text[])
    and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
), exec as (
  select fn.*, array_agg(r.rolname order by r.rolname) as roles,
         exists (select 1 from pg_temp.dbtool_caller_checks k where k.oid = fn.oid) as checks_caller
  from fn
  join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, fn.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, (select x.pronamespace from pg_catalog.pg_proc x where x.oid = fn.oid)))
  group by fn.oid, fn.nspname, fn.proname, fn.proargtypes, fn.proowner, fn.public_exec, fn.body
)
select nspname || '.' || proname || '(' || oidvectortypes(proargtypes) || ')' as object,
       'function' as object_type,
       'SECURITY DEFINER (runs as ' || pg_get_userbyid(proowner) || '), executable by ' || array_to_string(roles, ', ') ||
       '; the body checks the caller' as detail
from exec
where not public_exec and not 'anon' = any(roles) and checks_caller
