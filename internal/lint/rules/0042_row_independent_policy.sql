-- id: 0042
-- name: row_independent_policy
-- level: warn
-- category: security
-- title: Policy that never looks at the row, on a table of per-user or per-tenant data
-- analyzer: row_independent
-- description: A permissive policy for API roles on a table that holds rows of users or tenants (an owner
--   column referencing auth.users or defaulting to auth.uid(), or a column referencing another table of the
--   schema) asks only about the caller (is_subscriber(), auth.role() = 'authenticated', a sub-query on
--   another table) and reads no column of the row: every caller who qualifies sees or changes every row,
--   all tenants' alike. Read on PostgreSQL's parse tree of the expression (no column reference, sub-queries
--   included, names a column of the table). USING (true) is rule 0027's. Level contract: warn, because
--   whether "qualifies" means an ordinary user needs the matrix (matrix_stranger_reads_owner_rows confirms).
-- remediation: Bind the row to the caller: using (user_id = (select auth.uid())), or
--   using (account_id = any (array(select private.my_account_ids()))).
with tenant_col as (
  select a.attrelid
  from pg_attribute a
  where a.attnum > 0 and not a.attisdropped
    and (exists (select 1 from pg_constraint k where k.conrelid = a.attrelid and k.contype = 'f' and a.attnum = any(k.conkey)
                 and k.confrelid <> a.attrelid)
         or exists (select 1 from pg_attrdef d where d.adrelid = a.attrelid and d.adnum = a.attnum
                    and pg_get_expr(d.adbin, d.adrelid) ~ 'auth\.uid\(\)'))
  group by a.attrelid
)
select n.nspname || '.' || c.relname || '.' || pol.polname as object,
       'policy' as object_type,
       'for ' || case pol.polcmd when 'r' then 'select' when 'w' then 'update' when 'd' then 'delete' else 'all' end ||
       ' to ' || coalesce((select string_agg(r.rolname, ', ' order by r.rolname) from pg_roles r where r.oid = any(pol.polroles)), 'public') ||
       ': USING (' || pg_get_expr(pol.polqual, pol.polrelid) || ') reads no column of the row: whoever qualifies gets every row' as detail,
       pg_get_expr(pol.polqual, pol.polrelid) || chr(31) || c.relname || chr(31) ||
       (select string_agg(a.attname, ',') from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as input
from pg_policy pol
join pg_class c on c.oid = pol.polrelid
join pg_namespace n on n.oid = c.relnamespace
join tenant_col t on t.attrelid = c.oid
where n.nspname = any($1::text[])
  and c.relrowsecurity
  and pol.polpermissive
  and pol.polcmd in ('r', 'w', 'd', '*')
  and pol.polqual is not null
  and (0 = any(pol.polroles) or exists (select 1 from pg_roles r where r.rolname = any($2::text[]) and r.oid = any(pol.polroles)))
