-- id: 0015
-- name: security_definer_view
-- level: error
-- category: security
-- title: View bypasses row level security of the tables it reads
-- description: A view in an exposed schema, readable by an API role, has no security_invoker: it reads
--   its tables with the view owner's rights, so the row level security of an RLS-enabled table it reads
--   (directly or through other views) is applied for the owner, not for the caller. Typically every row
--   is visible through the view. A table the caller may select directly whose SELECT policy for the
--   caller is USING (true) hides nothing and does not count.
-- remediation: alter view ... set (security_invoker = on) (PostgreSQL 15+), or revoke select on the
--   view from the API roles.
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
), reader_roles as (
  select v.oid as view, r.oid as role, r.rolname
  from v
  join pg_roles r on r.rolname = any($2::text[])
   and ((has_table_privilege(r.oid, v.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, v.oid)) or (has_any_column_privilege(r.oid, v.oid, 'SELECT') and pg_temp.dbtool_reaches(r.oid, v.oid)))
), readers as (
  select view as oid, string_agg(rolname, ', ' order by rolname) as roles from reader_roles group by view
)
select v.nspname || '.' || v.relname as object,
       'view' as object_type,
       'readable by ' || rd.roles || '; runs as ' || pg_get_userbyid(v.relowner) ||
       ' (no security_invoker), so the row level security of ' ||
       string_agg(distinct tn.nspname || '.' || t.relname, ', ') || ' is not applied for the caller' as detail
from v
join readers rd on rd.oid = v.oid
join reads r on r.view = v.oid
join pg_class t on t.oid = r.rel and t.relkind in ('r', 'p') and t.relrowsecurity
 -- a table whose rows the reader may select directly and a SELECT policy USING (true) shows them all
 -- (public by design) loses nothing through the view
 and exists (select 1 from reader_roles rr where rr.view = v.oid and not (has_table_privilege(rr.role, t.oid, 'SELECT') and exists (
      select 1 from pg_policy pol where pol.polrelid = t.oid and pol.polpermissive and pol.polcmd in ('r', '*')
        and coalesce(pg_get_expr(pol.polqual, pol.polrelid), 'true') in ('true', '(true)')
        and (0 = any(pol.polroles) or exists (select 1 from unnest(pol.polroles) pr where pg_has_role(rr.role, pr, 'MEMBER'))))))
join pg_namespace tn on tn.oid = t.relnamespace
group by v.nspname, v.relname, v.relowner, rd.roles
