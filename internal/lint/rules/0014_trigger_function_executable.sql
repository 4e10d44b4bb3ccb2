-- id: 0014
-- name: trigger_function_executable
-- level: info
-- category: security
-- title: Trigger function executable by API roles
-- description: A trigger function in an exposed schema is executable by an API role. It is not an RPC
--   (calling it directly fails), but the grant clutters the API and is one "security definer" edit away
--   from running with its owner's rights in another context. Triggers fire whatever EXECUTE says.
-- remediation: revoke execute on function ... from public, anon, authenticated.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'returns ' || format_type(p.prorettype, null) || ', executable by ' || string_agg(r.rolname, ', ' order by r.rolname) ||
       case when bool_or(exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                 where a.grantee = 0 and a.privilege_type = 'EXECUTE')) then ' (through PUBLIC)' else '' end as detail
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, p.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, p.pronamespace))
where p.prorettype in ('trigger'::regtype, 'event_trigger'::regtype)
  and n.nspname = any($1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes, p.prorettype
