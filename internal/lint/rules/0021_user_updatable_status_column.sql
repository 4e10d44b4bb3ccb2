-- id: 0021
-- name: user_updatable_status_column
-- level: warn
-- category: security
-- title: Users can update the status of their own account-like row
-- description: An UPDATE policy lets API users update the rows bound to them (auth.uid() = a column) on
--   an account-like table (profiles, users, accounts, members, customers, subscriptions, ...) whose
--   status column they may update (column privilege) without the WITH CHECK or a BEFORE UPDATE row
--   trigger constraining it. When the status is granted by someone else (approved, active, banned),
--   users can change it themselves.
-- remediation: Grant UPDATE on the user-editable columns only, or change the status through a SECURITY
--   DEFINER function that checks the caller's permission. Ignore the rule when users set the status.
with pol as (
  select p.oid, p.polname, p.polrelid, p.polroles, n.nspname, c.relname,
         pg_get_expr(p.polqual, p.polrelid) as using_expr,
         coalesce(pg_get_expr(p.polwithcheck, p.polrelid), pg_get_expr(p.polqual, p.polrelid)) as check_expr
  from pg_policy p
  join pg_class c on c.oid = p.polrelid
  join pg_namespace n on n.oid = c.relnamespace
  where p.polcmd in ('w', '*') and p.polpermissive and p.polqual is not null and c.relrowsecurity
    and pg_get_expr(p.polqual, p.polrelid) not in ('false', '(false)')  -- a USING that is never true lets no row through
    and n.nspname = any($1::text[])
    and lower(c.relname) ~ ('(^|_)(profiles?|users?|accounts?|members?|memberships?|customers?|subscriptions?|'
                            'organizations?|orgs?|teams?|tenants?|employees?|staff|vendors?|sellers?)($|_)')
), bound as (
  select pol.oid, m[2] as col
  from pol cross join lateral regexp_matches(pol.using_expr,
    '(^|[^\w."])"?(\w+)"?(::\w+)?\s*=\s*(\(|\s|SELECT\s)*auth\.uid\(\)', 'g') m
  union
  select pol.oid, m[2]
  from pol cross join lateral regexp_matches(pol.using_expr,
    'auth\.uid\(\)(\s+AS\s+\w+|\)|::\w+|\s)*=\s*"?(\w+)', 'g') m
)
select pol.nspname || '.' || pol.relname || '.' || a.attname as object,
       'column' as object_type,
       'policy ' || pol.polname || ' lets ' || string_agg(distinct r.rolname, ', ') || ' update the rows where ' ||
       min(b.col) || ' = auth.uid(), and ' || a.attname ||
       ' may be updated (column privilege) without the WITH CHECK constraining it' as detail
from pol
join bound b on b.oid = pol.oid
join pg_attribute bc on bc.attrelid = pol.polrelid and bc.attname = b.col and bc.attnum > 0 and not bc.attisdropped
join pg_attribute a on a.attrelid = pol.polrelid and a.attnum > 0 and not a.attisdropped and a.attname <> b.col
join pg_roles r on r.rolname = any($2::text[])
 and exists (select 1 from unnest(pol.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
 and (has_column_privilege(r.oid, pol.polrelid, a.attnum, 'UPDATE') and pg_temp.dbtool_usage(r.oid, (select x.relnamespace from pg_catalog.pg_class x where x.oid = pol.polrelid)))
where lower(a.attname) ~ '^(status|account_status|verification_status|approval_status|kyc_status|membership_status|state)$'
  and not pol.check_expr ~ ('(^|[^\w.])"?' || a.attname || '"?($|[^\w(])')
  -- a BEFORE UPDATE row trigger whose function handles the column (new.role / old.role) guards it
  and not exists (
    select 1 from pg_trigger tg join pg_proc f on f.oid = tg.tgfoid
    where tg.tgrelid = pol.polrelid and tg.tgenabled <> 'D' and tg.tgtype & 1 = 1 and tg.tgtype & 2 = 2 and tg.tgtype & 16 = 16
      and f.prosrc ~* ('\m(new|old)\s*\.\s*"?' || a.attname || '"?\M'))
group by pol.nspname, pol.relname, pol.polname, a.attname
