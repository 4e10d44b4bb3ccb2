-- id: 0043
-- name: dynamic_sql_from_arguments
-- level: error
-- category: security
-- title: Routine callable through the API builds SQL from its arguments (injection)
-- analyzer: dynamic_sql
-- description: A PL/pgSQL routine an API role may execute (SECURITY DEFINER, so with its owner's rights)
--   runs EXECUTE (or RETURN QUERY EXECUTE, FOR ... IN EXECUTE) on text built from an argument by ||
--   or format('%s'), without quote_literal, quote_ident, quote_nullable, format's %L or %I, or a USING
--   parameter: the caller writes SQL that runs as the owner (read auth.users, change any row). Read on
--   PostgreSQL's PL/pgSQL parse tree (each EXECUTE's expression parsed in turn). Level contract: error.
-- remediation: Pass values as parameters (execute 'select ... where email = $1' using p_email), quote
--   identifiers with format('%I', ...) or quote_ident, and check the caller in the body.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'SECURITY DEFINER (runs as ' || pg_get_userbyid(p.proowner) || '), executable by ' ||
       string_agg(r.rolname, ', ' order by r.rolname) as detail,
       pg_get_functiondef(p.oid) || chr(31) || coalesce(array_to_string(p.proargnames, ','), '') as input
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, p.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, p.pronamespace))
where p.prosecdef
  and p.prokind in ('f', 'p')
  and n.nspname = any($1::text[])
  and p.prosrc ~* '\mexecute\M'
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes, p.proowner, p.oid, p.proargnames
