-- id: 0026
-- name: always_true_insert_policy
-- level: warn
-- category: security
-- title: Policy lets API roles insert any row
-- description: A permissive INSERT policy that applies to an API role has WITH CHECK (true): the role may
--   insert any values, including another user's id or tenant. Deliberate for a public submission table
--   (feedback, contact form), a defect anywhere rows belong to someone.
-- remediation: Bind the new row to the caller (with check (owner = (select auth.uid()))), or ignore the
--   rule for a public submission table, with the reason.
select n.nspname || '.' || c.relname || '.' || p.polname as object,
       'policy' as object_type,
       'for insert to ' || string_agg(r.rolname, ', ' order by r.rolname) || ': WITH CHECK (true) accepts any new row' as detail
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_roles r on r.rolname = any($2::text[])
 and exists (select 1 from unnest(p.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
where p.polcmd = 'a' and p.polpermissive
  and pg_get_expr(p.polwithcheck, p.polrelid) = 'true'
  and n.nspname = any($1::text[])
group by n.nspname, c.relname, p.polname
