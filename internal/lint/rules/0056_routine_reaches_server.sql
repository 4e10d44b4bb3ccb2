-- id: 0056
-- name: routine_reaches_server
-- level: warn
-- category: security
-- title: Routine callable through the API reaches the server's files, programs or other databases
-- analyzer: server_access
-- description: A routine of an exposed schema that an API role may execute calls pg_read_file,
--   pg_read_binary_file, pg_ls_dir, pg_stat_file, lo_import, lo_export, dblink, pg_terminate_backend,
--   pg_reload_conf or similar, or runs COPY to or from a file or a program. SECURITY DEFINER, it does so
--   with its owner's rights for any caller; invoker, it hands the caller a path into the server's files
--   the day someone grants the privilege. Read on the parse tree (each statement of a PL/pgSQL body).
--   Warn: what leaks depends on the owner's privileges and the arguments.
-- remediation: Keep such routines out of the exposed schemas and revoke execute from anon and
--   authenticated; read files in server code, not in the database.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       case when p.prosecdef then 'SECURITY DEFINER (runs as ' || pg_get_userbyid(p.proowner) || '), ' else '' end ||
       'executable by ' || string_agg(r.rolname, ', ' order by r.rolname) || '; calls ' as detail,
       l.lanname || chr(31) || case when l.lanname = 'plpgsql' then pg_get_functiondef(p.oid) else p.prosrc end as input
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname in ('sql', 'plpgsql')
join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, p.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, p.pronamespace))
where n.nspname = any($1::text[])
  and p.prosrc ~* 'pg_read|pg_ls_|pg_stat_file|lo_import|lo_export|dblink|pg_terminate|pg_cancel|pg_reload|pg_rotate|\mcopy\M'
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes, p.oid, p.prosecdef, p.proowner, l.lanname, p.prosrc
