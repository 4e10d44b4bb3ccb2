-- id: 0013
-- name: security_definer_unchecked_write
-- level: error
-- category: security
-- title: SECURITY DEFINER function writes tables for any caller
-- description: A SECURITY DEFINER function in an exposed schema, executable by an API role, writes tables
--   (INSERT, UPDATE, DELETE, MERGE or TRUNCATE in its body) and never checks the caller (no auth.uid(),
--   auth.role(), auth.jwt(), current_user or has_/is_/can_ permission helper). It runs with its owner's
--   rights, past row level security: any caller can change rows that are not theirs.
-- remediation: Check the caller in the body before writing (raise when auth.uid() is null or lacks the
--   permission, and bind the written rows to the caller), or revoke execute from the API roles.
with fn as (
  select p.oid, n.nspname, p.proname, p.proargtypes, p.proowner,
         regexp_replace(regexp_replace(case when p.prosqlbody is not null then pg_get_functiondef(p.oid) else p.prosrc end,
                                       '--[^\n]*', '', 'g'), '/\*.*?\*/', '', 'g') as body
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  where p.prosecdef
    and p.prokind in ('f', 'p')
    and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)
    and n.nspname = any($1::text[])
    and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
)
select fn.nspname || '.' || fn.proname || '(' || oidvectortypes(fn.proargtypes) || ')' as object,
       'function' as object_type,
       'writes tables (' ||
       array_to_string(array(select distinct lower(regexp_replace(m[1], '\s+.*$', '')) from regexp_matches(fn.body,
         '\m(insert\s+into|delete\s+from|merge\s+into|truncate|update\s+(only\s+)?[\w."]+(\s+(as\s+)?\w+)?\s+set)\M', 'gi') m
         order by 1), ', ') ||
       ') as ' || pg_get_userbyid(fn.proowner) || ' without checking the caller; executable by ' ||
       string_agg(r.rolname, ', ' order by r.rolname) as detail
from fn
join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, fn.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, (select x.pronamespace from pg_catalog.pg_proc x where x.oid = fn.oid)))
where fn.body ~* '\m(insert\s+into|delete\s+from|merge\s+into|truncate)\M|\mupdate\s+(only\s+)?[\w."]+(\s+(as\s+)?\w+)?\s+set\M'
  and not exists (select 1 from pg_temp.dbtool_caller_checks k where k.oid = fn.oid)
group by fn.nspname, fn.proname, fn.proargtypes, fn.proowner, fn.body
