-- id: 0010
-- name: security_definer_no_search_path
-- level: warn
-- category: security
-- title: SECURITY DEFINER function without a fixed search_path
-- description: The function runs with its owner's rights but resolves names through the caller's
--   search_path. No API role may execute it today (or it is a trigger function, which fires for whoever
--   writes the table); whoever can (another function, a later grant) can
--   make it resolve names to objects of their choosing.
-- remediation: Add "set search_path = ''" to the function and schema-qualify every name in its body.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'SECURITY DEFINER (runs as ' || pg_get_userbyid(p.proowner) || ') without a fixed search_path' as detail
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
where p.prosecdef
  and not exists (select 1 from unnest(p.proconfig) cfg where cfg like 'search_path=%')
  -- callable by no API role, or a trigger function (never callable through the API)
  and (p.prorettype = 'trigger'::regtype
       or not exists (select 1 from pg_roles r where r.rolname = any($2::text[]) and (has_function_privilege(r.oid, p.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, p.pronamespace))))
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
