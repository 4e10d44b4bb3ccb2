-- id: 0023
-- name: update_policy_without_with_check
-- level: info
-- category: correctness
-- title: UPDATE policy without WITH CHECK
-- description: An UPDATE policy has no WITH CHECK, so PostgreSQL checks the new row against the USING
--   expression. That is often what is meant, but it hides the decision: what may an updated row look
--   like? A later edit of USING silently changes which rows may be written.
-- remediation: Write the WITH CHECK explicitly, usually the same ownership condition as USING
--   (using (owner = (select auth.uid())) with check (owner = (select auth.uid()))).
select n.nspname || '.' || c.relname || '.' || p.polname as object,
       'policy' as object_type,
       'for update to ' || string_agg(r.rolname, ', ' order by r.rolname) || ' without WITH CHECK: USING (' ||
       pg_get_expr(p.polqual, p.polrelid) || ') is reused for the new row' as detail
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_roles r on r.rolname = any($2::text[])
 and exists (select 1 from unnest(p.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
where p.polcmd = 'w' and p.polwithcheck is null and p.polqual is not null
    and pg_get_expr(p.polqual, p.polrelid) not in ('false', '(false)')  -- a USING that is never true lets no row through
  and n.nspname = any($1::text[])
group by n.nspname, c.relname, p.polname, p.polqual, p.polrelid
