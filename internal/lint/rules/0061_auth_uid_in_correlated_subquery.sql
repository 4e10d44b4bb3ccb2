-- id: 0061
-- name: auth_uid_in_correlated_subquery
-- level: info
-- category: performance
-- title: auth.uid() called inside a correlated sub-query of a policy
-- analyzer: uid_in_correlated
-- description: A policy's sub-query refers to the policy's table (exists (select 1 from members m where
--   m.org_id = docs.org_id and m.user_id = auth.uid())): it runs for every row, and auth.uid() inside it
--   runs for every row of every run. Wrapped as (select auth.uid()) it is evaluated once per query (an
--   initplan). Rule 0035 covers auth.uid() outside sub-queries. Read on the policy's parse tree.
-- remediation: Write (select auth.uid()) inside the sub-query, or turn it into an uncorrelated set:
--   org_id in (select m.org_id from members m where m.user_id = (select auth.uid())).
select n.nspname || '.' || c.relname || '.' || p.polname as object,
       'policy' as object_type,
       'a correlated sub-query calls auth.uid() (or auth.jwt(), auth.role()) for every row' as detail,
       coalesce(pg_get_expr(p.polqual, p.polrelid), 'true') || ' and ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), 'true') ||
       chr(31) || c.relname as input
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[])
  and coalesce(pg_get_expr(p.polqual, p.polrelid), '') || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') ~* 'select'
  and coalesce(pg_get_expr(p.polqual, p.polrelid), '') || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') ~* 'auth\.(uid|jwt|role)'
  -- correlated: the sub-query names the policy's table (pg_get_expr qualifies outer columns)
  and strpos(coalesce(pg_get_expr(p.polqual, p.polrelid), '') || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''), c.relname || '.') > 0
