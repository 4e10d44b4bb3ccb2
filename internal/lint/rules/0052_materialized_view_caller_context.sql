-- id: 0052
-- name: materialized_view_caller_context
-- level: warn
-- category: security
-- title: Materialized view computed from the caller's identity (frozen at REFRESH)
-- analyzer: caller_context
-- description: A materialized view's query calls auth.uid(), auth.jwt(), auth.role(), auth.email(),
--   current_setting('request.…') or reads current_user/session_user. A materialized view is computed once,
--   by whoever runs REFRESH (a cron job, the owner): its rows are filtered or labelled for that identity,
--   not for the user who reads them, so either nobody sees their rows or everyone sees the refresher's.
--   Read on PostgreSQL's parse tree of the view's definition. Warn: what leaks depends on who refreshes.
-- remediation: Filter when reading (a view or a function over the materialized view that compares with
--   auth.uid()), and keep the materialized view itself private (no grants to API roles).
select n.nspname || '.' || c.relname as object,
       'materialized view' as object_type,
       'its query reads the caller''s identity, frozen at REFRESH: ' as detail,
       pg_get_viewdef(c.oid) as input
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'm'
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and pg_get_viewdef(c.oid) ~* 'auth\.|current_user|session_user|current_setting|\muser\M|current_role'
