-- id: 0025
-- name: always_true_write_policy
-- level: error
-- category: security
-- title: Policy lets API roles update or delete every row
-- description: A permissive UPDATE, DELETE or ALL policy that applies to an API role has USING (true) or
--   WITH CHECK (true): the role may change or delete every row of the table (or, for WITH CHECK (true),
--   write any values, such as another user's id, into the rows it may update). Permissive policies are
--   OR-ed, so one such policy opens the table whatever the others say.
-- remediation: Bind the rows to the caller (using (owner = (select auth.uid())) with check (...)), or
--   drop the policy if writes go through functions.
select n.nspname || '.' || c.relname || '.' || p.polname as object,
       'policy' as object_type,
       'for ' || case p.polcmd when 'w' then 'update' when 'd' then 'delete' else 'all' end || ' to ' ||
       string_agg(r.rolname, ', ' order by r.rolname) || ': ' ||
       concat_ws(' and ', case when pg_get_expr(p.polqual, p.polrelid) = 'true' then 'USING (true) matches every row' end,
                          case when pg_get_expr(p.polwithcheck, p.polrelid) = 'true' then 'WITH CHECK (true) accepts any new row' end) as detail
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_roles r on r.rolname = any($2::text[])
 and exists (select 1 from unnest(p.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
where p.polcmd in ('w', 'd', '*') and p.polpermissive
  and (pg_get_expr(p.polqual, p.polrelid) = 'true' or (p.polcmd <> 'd' and pg_get_expr(p.polwithcheck, p.polrelid) = 'true'))
  and n.nspname = any($1::text[])
group by n.nspname, c.relname, p.polname, p.polcmd, p.polqual, p.polwithcheck, p.polrelid
