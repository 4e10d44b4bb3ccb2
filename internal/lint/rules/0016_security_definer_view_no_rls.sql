-- id: 0016
-- name: security_definer_view_no_rls
-- level: warn
-- category: security
-- title: View runs with its owner's rights
-- description: A view in an exposed schema, readable by an API role, has no security_invoker: it reads its
--   tables with the view owner's rights. None of them restricts the caller with row level security today
--   (no RLS, or a table the caller may select whose SELECT policy for the caller is USING (true)), but
--   the view also serves tables the caller holds no privilege on, and it will keep bypassing RLS when a
--   policy is tightened.
-- remediation: alter view ... set (security_invoker = on) and grant the callers what the view reads, or
--   accept the view as a deliberate window (and ignore this rule for it, with the reason).
with recursive v as (
  select c.oid, n.nspname, c.relname, c.relowner
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'v'
    and n.nspname = any($1::text[])
    and not coalesce((select lower(o.option_value) in ('on', 'true', 'yes', '1')
                      from pg_options_to_table(c.reloptions) o where o.option_name = 'security_invoker'), false)
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
  join pg_class c on c.oid = r.rel and c.relkind = 'v'
  join pg_rewrite w on w.ev_class = c.oid
  join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = w.oid and d.refclassid = 'pg_class'::regclass
                  and d.refobjid <> c.oid
)
select v.nspname || '.' || v.relname as object,
       'view' as object_type,
       'readable by ' || string_agg(r.rolname, ', ' order by r.rolname) || '; runs as ' || pg_get_userbyid(v.relowner) ||
       ' (no security_invoker)' as detail
from v
join pg_roles r on r.rolname = any($2::text[])
 and ((has_table_privilege(r.oid, v.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, v.oid)) or (has_any_column_privilege(r.oid, v.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, v.oid)))
where not exists (
  select 1 from reads rd join pg_class t on t.oid = rd.rel
  where rd.view = v.oid and t.relkind in ('r', 'p') and t.relrowsecurity
    and not (has_table_privilege(r.oid, t.oid, 'SELECT') and exists (
      select 1 from pg_policy pol where pol.polrelid = t.oid and pol.polpermissive and pol.polcmd in ('r', '*')
        and coalesce(pg_get_expr(pol.polqual, pol.polrelid), 'true') in ('true', '(true)')
        and (0 = any(pol.polroles) or exists (select 1 from unnest(pol.polroles) pr where pg_has_role(r.oid, pr, 'MEMBER'))))))
group by v.nspname, v.relname, v.relowner
