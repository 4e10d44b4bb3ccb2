-- id: 0024
-- name: with_check_unbound_owner
-- level: warn
-- category: security
-- title: WITH CHECK does not bind the owner or tenant column that USING binds
-- description: An UPDATE (or ALL) policy's USING binds rows to the caller through a column (owner =
--   auth.uid(), org_id in (select ...)), but its WITH CHECK does not mention that column: a user may
--   update their row and move it to another owner or tenant, planting data where it does not belong.
-- remediation: Repeat the binding in WITH CHECK (with check (owner = (select auth.uid()))), or make the
--   column non-updatable (column privileges).
with pol as (
  select p.oid, p.polname, p.polrelid, p.polroles, n.nspname, c.relname,
         pg_get_expr(p.polqual, p.polrelid) as using_expr,
         pg_get_expr(p.polwithcheck, p.polrelid) as check_expr
  from pg_policy p
  join pg_class c on c.oid = p.polrelid
  join pg_namespace n on n.oid = c.relnamespace
  where p.polcmd in ('w', '*') and p.polpermissive and p.polqual is not null and p.polwithcheck is not null
    and pg_get_expr(p.polqual, p.polrelid) not in ('false', '(false)')  -- a USING that is never true lets no row through
    and n.nspname = any($1::text[])
), bound as (
  select pol.oid, m[2] as col
  from pol cross join lateral regexp_matches(pol.using_expr,
    '(^|[^\w."])"?(\w+)"?(::\w+)?\s*=\s*(\(|\s|SELECT\s)*auth\.uid\(\)', 'g') m
  union
  select pol.oid, m[2]
  from pol cross join lateral regexp_matches(pol.using_expr,
    'auth\.uid\(\)(\s+AS\s+\w+|\)|::\w+|\s)*=\s*"?(\w+)', 'g') m
  union
  select pol.oid, m[2]
  from pol cross join lateral regexp_matches(pol.using_expr,
    '(^|[^\w."])"?(\w+)"?\s+IN\s+\(\s*SELECT\M', 'g') m
  union
  select pol.oid, m[2]
  from pol cross join lateral regexp_matches(pol.using_expr,
    '(^|[^\w."])"?(\w+)"?\s*=\s*ANY\s*\(', 'g') m
)
select pol.nspname || '.' || pol.relname || '.' || pol.polname as object,
       'policy' as object_type,
       'USING binds ' || string_agg(distinct b.col, ', ') || ' to the caller but WITH CHECK (' || pol.check_expr ||
       ') does not mention it: an update may move the row to another owner or tenant' as detail
from pol
join bound b on b.oid = pol.oid
join pg_attribute a on a.attrelid = pol.polrelid and a.attname = b.col and a.attnum > 0 and not a.attisdropped
where pol.check_expr <> 'true'
  and not pol.check_expr ~ ('(^|[^\w.])"?' || b.col || '"?($|[^\w(])')
  and exists (select 1 from pg_roles r where r.rolname = any($2::text[])
              and exists (select 1 from unnest(pol.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage')))
group by pol.nspname, pol.relname, pol.polname, pol.check_expr
