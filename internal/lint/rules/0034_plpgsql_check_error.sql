-- id: 0034
-- name: plpgsql_check_error
-- level: error
-- category: correctness
-- title: PL/pgSQL function fails plpgsql_check
-- requires: plpgsql_check
-- description: plpgsql_check found an error in a PL/pgSQL function body (a missing column or table, a
--   wrong type, a field a record does not have): PostgreSQL only finds these when the statement runs.
--   Each routine is checked under its own search_path (its SET search_path, else the database's), each
--   trigger function against every table it is attached to (trigger functions no table uses are not
--   checked); a missing table is not reported for a routine that creates temporary tables. When the
--   server has plpgsql_check and the database does not, dbtool creates it inside the lint transaction,
--   which is rolled back; without it on the server the rule is skipped. (dbtool runs the checks
--   routine by routine in Go; the query below is not used.)
-- remediation: Fix the statement plpgsql_check points at (line and statement are in the detail).
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'line ' || coalesce(r.lineno::text, '?') || coalesce(' (' || r.statement || ')', '') || ': ' || r.message ||
       coalesce(' [' || r.sqlstate || ']', '') as detail
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
cross join lateral (
  select coalesce((select t.tgrelid from pg_trigger t where t.tgfoid = p.oid order by t.oid limit 1), 0) as relid
) tr
cross join lateral @extschema@.plpgsql_check_function_tb(p.oid::regprocedure, tr.relid::regclass, fatal_errors => false) r
where p.prokind in ('f', 'p')
  and p.prorettype <> 'event_trigger'::regtype
  and (p.prorettype <> 'trigger'::regtype or tr.relid <> 0)
  and r.level = 'error'
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
