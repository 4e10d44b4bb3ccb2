-- id: 0027
-- name: always_true_select_policy
-- level: info
-- category: security
-- title: Policy lets API roles read every row
-- description: A permissive SELECT policy that applies to an API role has USING (true): every row is
--   readable by that role. Normal for catalogue data (products, public profiles); listed so that a
--   reviewer confirms no column of the table is private.
-- remediation: None for public data. Otherwise bind the rows to the caller, or expose public columns
--   through a security_invoker view.
select n.nspname || '.' || c.relname || '.' || p.polname as object,
       'policy' as object_type,
       'for select to ' || string_agg(r.rolname, ', ' order by r.rolname) || ': USING (true), every row is readable' as detail
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_roles r on r.rolname = any($2::text[])
 and exists (select 1 from unnest(p.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
where p.polcmd = 'r' and p.polpermissive
  and pg_get_expr(p.polqual, p.polrelid) = 'true'
  and n.nspname = any($1::text[])
group by n.nspname, c.relname, p.polname
