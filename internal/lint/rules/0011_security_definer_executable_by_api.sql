-- id: 0011
-- name: security_definer_executable_by_api
-- level: warn
-- category: security
-- title: SECURITY DEFINER function callable by anyone through the API
-- description: A SECURITY DEFINER function in an exposed schema is an RPC that runs with its owner's
--   rights (usually past row level security). It is executable by anon (directly or through PUBLIC), or
--   by an API role while its body never looks at the caller (auth.uid(), auth.role(), auth.jwt(),
--   current_user or a has_/is_/can_ permission helper). Whoever may call it gets the owner's rights.
-- remediation: revoke execute on function ... from public, anon; grant execute to the roles that need it,
--   and check the caller in the body (e.g. raise when auth.uid() is null or lacks the permission). A
--   helper that needs no caller check belongs in a schema the API does not expose.
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
       case when public_exec then ' (through PUBLIC)' else '' end ||
       case when checks_caller then '' else '; the body never checks the caller' end as detail
from exec
where public_exec or 'anon' = any(roles) or not checks_caller
