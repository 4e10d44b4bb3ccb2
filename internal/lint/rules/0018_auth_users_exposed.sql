-- id: 0018
-- name: auth_users_exposed
-- level: error
-- category: security
-- title: auth.users exposed through the API
-- analyzer: users_reach_result
-- description: A view or materialized view in an exposed schema reads auth.users (directly or through
--   other views) and is readable by an API role, with rights that reach the table (view owner's rights,
--   a materialized copy, or the caller's own SELECT on auth.users); or a function in an exposed schema
--   that reads auth.users is executable by an API role, runs with rights that reach the table and never
--   checks the caller, and data read from auth.users reaches what it returns (its final SELECT, a
--   RETURN / RETURN QUERY, or a variable or OUT parameter filled from it and returned; read on the
--   PL/pgSQL parse tree). A lookup that only decides what to write or whether to raise is not exposure.
--   Emails, phone numbers and metadata of every user leak.
-- remediation: Drop the view or revoke it from the API roles. Expose only what is needed (e.g. a
--   profiles table under RLS filled by a trigger), or a SECURITY DEFINER function that returns the
--   caller's own row (where id = auth.uid()).
with recursive users as (
  select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'auth' and c.relname = 'users'
), v as (
  select c.oid, n.nspname, c.relname, c.relkind, c.relowner,
         c.relkind = 'v' and coalesce((select lower(o.option_value) in ('on', 'true', 'yes', '1')
                      from pg_options_to_table(c.reloptions) o where o.option_name = 'security_invoker'), false) as invoker
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('v', 'm')
    and n.nspname = any($1::text[])
    and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
), reads(view, rel) as (
  select v.oid, d.refobjid
  from v
  join pg_rewrite w on w.ev_class = v.oid
  join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = w.oid and d.refclassid = 'pg_class'::regclass
                  and d.refobjid <> v.oid
  union
  select r.view, d.refobjid
  from reads r
  join pg_class c on c.oid = r.rel and c.relkind in ('v', 'm')
  join pg_rewrite w on w.ev_class = c.oid
  join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = w.oid and d.refclassid = 'pg_class'::regclass
                  and d.refobjid <> c.oid
)
select v.nspname || '.' || v.relname as object,
       case v.relkind when 'm' then 'materialized view' else 'view' end as object_type,
       'reads auth.users and is readable by ' || string_agg(r.rolname, ', ' order by r.rolname) ||
       case when v.relkind = 'm' then ' (a materialized copy)'
            when not v.invoker then ' (runs as ' || pg_get_userbyid(v.relowner) || ')'
            else ' (who may read auth.users themselves)' end as detail,
       '' as input
from v
join users u on exists (select 1 from reads rd where rd.view = v.oid and rd.rel = u.oid)
join pg_roles r on r.rolname = any($2::text[])
 and ((has_table_privilege(r.oid, v.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, v.oid)) or (has_any_column_privilege(r.oid, v.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, v.oid)))
 and (not v.invoker or (has_table_privilege(r.oid, u.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, u.oid)) or (has_any_column_privilege(r.oid, u.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, u.oid)))
group by v.nspname, v.relname, v.relkind, v.relowner, v.invoker
union all
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')',
       'function',
       'reads auth.users' || case when p.prosecdef then ' as ' || pg_get_userbyid(p.proowner) else '' end ||
       ' without checking the caller; executable by ' || string_agg(r.rolname, ', ' order by r.rolname),
       l.lanname || chr(31) ||
       case when l.lanname = 'plpgsql' or p.prosqlbody is not null then pg_get_functiondef(p.oid) else p.prosrc end || chr(31) ||
       coalesce((select string_agg(a.name, ',') from unnest(p.proargnames, p.proargmodes) a(name, mode) where a.mode in ('o', 'b', 't')), '')
from pg_proc p
join pg_language l on l.oid = p.prolang
join pg_namespace n on n.oid = p.pronamespace
cross join users u
cross join lateral (
  select regexp_replace(regexp_replace(case when p.prosqlbody is not null then pg_get_functiondef(p.oid) else p.prosrc end,
                                       '--[^\n]*', '', 'g'), '/\*.*?\*/', '', 'g') as body
) b
join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, p.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, p.pronamespace))
 and (p.prosecdef or (has_table_privilege(r.oid, u.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, u.oid)) or (has_any_column_privilege(r.oid, u.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, u.oid)))
where p.prokind in ('f', 'p')
  and n.nspname = any($1::text[])
  and b.body ~* '(^|[^\w.])"?auth"?\s*\.\s*"?users"?($|[^\w])'
  and not exists (select 1 from pg_temp.dbtool_caller_checks k where k.oid = p.oid)
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes, p.prosecdef, p.proowner, p.oid, l.lanname, p.prosqlbody, p.prosrc, p.proargnames, p.proargmodes
