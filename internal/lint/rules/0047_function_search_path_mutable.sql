-- id: 0047
-- name: function_search_path_mutable
-- level: info
-- category: security
-- title: Function of an exposed schema without a fixed search_path
-- description: A SQL or PL/pgSQL function (SECURITY INVOKER; definers are rules 0009 and 0010) of a schema
--   the API serves resolves unqualified names through the caller's search_path. Whoever can set the
--   search_path or create objects in a schema on it can make the function call their own objects
--   instead (a function named like now(), a table shadowing one of yours), and plans change with the
--   caller's settings. Supabase's linter reports the same (function_search_path_mutable). Hygiene: info.
-- remediation: alter function ... set search_path = '' (and schema-qualify the names in its body), or set
--   search_path = pg_catalog, public.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'SECURITY INVOKER ' || l.lanname || ' function without SET search_path' as detail
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname in ('sql', 'plpgsql')
where n.nspname = any($1::text[])
  and not p.prosecdef
  and p.prokind in ('f', 'p')
  and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) s where s like 'search\_path=%')
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
