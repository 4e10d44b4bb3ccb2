-- id: 0035
-- name: auth_rls_initplan
-- level: info
-- category: performance
-- title: Policy calls auth functions for every row
-- description: A policy calls auth.uid(), auth.jwt(), auth.role(), auth.email() or current_setting()
--   outside any sub-query, so PostgreSQL calls it once per row instead of once per statement. Wrapped in
--   a sub-select the call becomes an init plan evaluated once: on a table without a matching index it
--   was 20x faster. Calls already inside a sub-query (owner = (select auth.uid()), or
--   x in (select ... where y = auth.uid())) are not reported.
-- remediation: Wrap the call: using (owner = (select auth.uid())).
with recursive pol as (
  select p.oid, p.polname, n.nspname, c.relname,
         coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') as expr
  from pg_policy p
  join pg_class c on c.oid = p.polrelid
  join pg_namespace n on n.oid = c.relnamespace
  where pg_temp.dbtool_project_schema(n.nspname, $1::text[])
), strip(oid, txt, n) as (
  -- peel parentheses from the inside out: a group without SELECT becomes [..], a sub-select disappears;
  -- what is left of the calls afterwards was outside every sub-query
  select oid, expr, 0 from pol where expr ~ '\m(auth\.(uid|jwt|role|email)|current_setting)\('
  union all
  select oid,
         regexp_replace(regexp_replace(txt, '\(((?:[^()S]|S(?!ELECT\M))*)\)', '[\1]', 'g'), '\(\s*SELECT\M[^()]*\)', ' ', 'g'),
         n + 1
  from strip
  where txt ~ '\(' and n < 100
), peeled as (
  select distinct on (oid) oid, txt from strip order by oid, n desc
)
select p.nspname || '.' || p.relname || '.' || p.polname as object,
       'policy' as object_type,
       'calls ' || string_agg(distinct m[1] || '()', ', ') || ' outside a sub-query, once per row; wrap each call in a sub-select, ' ||
       'e.g. (select ' || min(m[1]) || '(' || case when min(m[1]) = 'current_setting' then '...' else '' end || '))' as detail
from peeled s
join pol p on p.oid = s.oid
cross join lateral regexp_matches(s.txt, '\m(auth\.(uid|jwt|role|email)|current_setting)\[', 'g') m
group by p.nspname, p.relname, p.polname
