-- id: 0028
-- name: policy_uses_user_metadata
-- level: error
-- category: security
-- title: Policy trusts user-editable JWT metadata
-- description: A policy reads user_metadata (auth.jwt() -> 'user_metadata', or auth.users.raw_user_meta_data).
--   Users edit their own user metadata (supabase.auth.updateUser({ data: ... })), so a policy that
--   trusts it (a role, an organisation id, a plan) lets users grant themselves access.
-- remediation: Use app_metadata (set only by the server: auth.jwt() -> 'app_metadata') or a table the
--   user cannot write.
select n.nspname || '.' || c.relname || '.' || p.polname as object,
       'policy' as object_type,
       concat_ws('; ', case when pg_get_expr(p.polqual, p.polrelid) ~* 'user_metadata|raw_user_meta_data'
                            then 'USING (' || pg_get_expr(p.polqual, p.polrelid) || ')' end,
                       case when pg_get_expr(p.polwithcheck, p.polrelid) ~* 'user_metadata|raw_user_meta_data'
                            then 'WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')' end) ||
       ' reads user metadata, which users edit themselves' as detail
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
where (coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''))
        ~* 'user_metadata|raw_user_meta_data'
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
