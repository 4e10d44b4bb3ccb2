-- id: 0022
-- name: privilege_table_self_insert
-- level: error
-- category: security
-- title: Users can insert into a role, permission or membership table unchecked
-- description: An API role holds INSERT on a table whose name says it grants authority (roles,
--   permissions, members, memberships, admins) and a permissive policy lets it insert with a check that
--   does not look at the caller's authority: no sub-query, no permission helper, no constraint on a
--   role-like column (e.g. only user_id = auth.uid(), or true), and no BEFORE INSERT row trigger that
--   raises or sets a role-like column. Any signed-in user adds themselves as admin or member of any
--   organisation.
-- remediation: Restrict the WITH CHECK to callers who already hold the authority (e.g.
--   private.is_org_admin(org_id)), or revoke INSERT and add members through a SECURITY DEFINER function
--   (invitation_accept, member_add) that checks the caller.
with pol as (
  select p.oid, p.polname, p.polrelid, p.polroles, n.nspname, c.relname,
         case when p.polcmd = '*' then coalesce(pg_get_expr(p.polwithcheck, p.polrelid), pg_get_expr(p.polqual, p.polrelid))
              else pg_get_expr(p.polwithcheck, p.polrelid) end as check_expr
  from pg_policy p
  join pg_class c on c.oid = p.polrelid
  join pg_namespace n on n.oid = c.relnamespace
  where p.polcmd in ('a', '*') and p.polpermissive and c.relrowsecurity
    and n.nspname = any($1::text[])
    and lower(c.relname) ~ '(^|_)(roles?|permissions?|members?|memberships?|admins?|administrators?)($|_)'
)
select pol.nspname || '.' || pol.relname || '.' || pol.polname as object,
       'policy' as object_type,
       string_agg(distinct r.rolname, ', ') || ' may insert into ' || pol.nspname || '.' || pol.relname ||
       ' with check (' || pol.check_expr || '), which does not check the caller''s authority' as detail
from pol
join pg_roles r on r.rolname = any($2::text[])
 and exists (select 1 from unnest(pol.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
 and ((has_table_privilege(r.oid, pol.polrelid, 'INSERT') and pg_temp.dbtool_usage(r.oid, (select x.relnamespace from pg_catalog.pg_class x where x.oid = pol.polrelid))) or (has_any_column_privilege(r.oid, pol.polrelid, 'INSERT') and pg_temp.dbtool_usage(r.oid, (select x.relnamespace from pg_catalog.pg_class x where x.oid = pol.polrelid))))
where pol.check_expr is not null
  and (pol.check_expr = 'true'
       -- a sub-query other than a wrapped auth call, e.g. (select auth.uid())
       or (regexp_replace(pol.check_expr, '\(\s*SELECT\s+auth\.\w+\(\)(\s+AS\s+\w+)?\s*\)', '', 'g') !~ '\mSELECT\M'
           -- no call to a helper outside the auth schema (built-in functions are not recorded in pg_depend)
           and not exists (select 1 from pg_depend d join pg_proc f on f.oid = d.refobjid
                           join pg_namespace fn on fn.oid = f.pronamespace
                           where d.classid = 'pg_policy'::regclass and d.objid = pol.oid
                             and d.refclassid = 'pg_proc'::regclass and fn.nspname <> 'auth')
           -- no constraint on a role-like column
           and not exists (select 1 from pg_attribute a
                           where a.attrelid = pol.polrelid and a.attnum > 0 and not a.attisdropped
                             and lower(a.attname) ~ '(^|_)(role|roles|is_admin|admin|permission|permissions|level|is_owner)$'
                             and pol.check_expr ~ ('(^|[^\w.])"?' || a.attname || '"?($|[^\w(])'))))
  -- a BEFORE INSERT row trigger that raises or sets a role-like column validates the row itself
  and not exists (
    select 1 from pg_trigger tg join pg_proc f on f.oid = tg.tgfoid
    where tg.tgrelid = pol.polrelid and tg.tgenabled <> 'D' and tg.tgtype & 1 = 1 and tg.tgtype & 2 = 2 and tg.tgtype & 4 = 4
      and f.prosrc ~* '\mraise\M|\mnew\s*\.\s*"?(role|roles|is_admin|admin|permission|permissions|level|is_owner)"?\M')
group by pol.nspname, pol.relname, pol.polname, pol.check_expr
