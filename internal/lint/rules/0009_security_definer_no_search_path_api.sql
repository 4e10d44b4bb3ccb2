-- id: 0009
-- name: security_definer_no_search_path_api
-- level: warn
-- category: security
-- title: SECURITY DEFINER function without a fixed search_path, executable by API roles
-- description: The function runs with its owner's rights but resolves names through the caller's
--   search_path. A caller who can put an object (a table, a function, an operator) earlier on the path
--   makes the function use it, with the owner's rights. Putting an object on the path takes a SQL
--   session (CREATE on a schema of the path, rule 0044, or SET search_path), which no API request
--   gives by itself: so warn, under the level contract, not error.
-- remediation: Add "set search_path = ''" to the function and schema-qualify every name in its body (or
--   set it to trusted schemas only, e.g. pg_catalog, public).
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'SECURITY DEFINER (runs as ' || pg_get_userbyid(p.proowner) || ') without a fixed search_path; executable by ' ||
       string_agg(r.rolname, ', ' order by r.rolname) as detail
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, p.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, p.pronamespace))
where p.prosecdef
  and p.prorettype <> 'trigger'::regtype  -- a trigger function cannot be called through the API (0010 covers it)
  and not exists (select 1 from unnest(p.proconfig) cfg where cfg like 'search_path=%')
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes, p.proowner
