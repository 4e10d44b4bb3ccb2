-- id: 0058
-- name: uniqueness_check_under_rls
-- level: warn
-- category: correctness
-- title: Invoker routine checks "does it exist already?" on a table whose rows RLS hides
-- analyzer: rls_blind_uniqueness
-- description: A SECURITY INVOKER PL/pgSQL routine that an API role may execute raises when EXISTS (select
--   ... from t ...) finds a row, on a table with row level security: the caller sees only their own rows
--   (or none), so the check passes for duplicates that belong to others (a username, a slug, a booked
--   slot), and two concurrent callers pass it together. Read on the PL/pgSQL parse tree. Warn: the
--   harm depends on what the check protects.
-- remediation: Enforce it with a UNIQUE (or EXCLUDE) constraint and catch unique_violation, or check in a
--   SECURITY DEFINER routine that locks what it checks.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'SECURITY INVOKER, executable by ' || string_agg(r.rolname, ', ' order by r.rolname) ||
       '; raises on EXISTS over tables with row level security: ' as detail,
       pg_get_functiondef(p.oid) || chr(31) ||
       (select string_agg(tn.nspname || '.' || tc.relname || ',' || tc.relname, ',')
        from pg_class tc join pg_namespace tn on tn.oid = tc.relnamespace
        where tc.relrowsecurity and tc.relkind in ('r', 'p') and tn.nspname = any($1::text[])) as input
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, p.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, p.pronamespace))
where not p.prosecdef
  and n.nspname = any($1::text[])
  and p.prosrc ~* '\mexists\M'
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes, p.oid
