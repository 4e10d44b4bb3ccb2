-- id: 0033
-- name: current_setting_without_missing_ok
-- level: warn
-- category: correctness
-- title: Trigger reads a setting that may be missing
-- description: A trigger function calls current_setting('name') without the missing_ok argument. Settings
--   such as request.jwt.claims exist only in API requests: the same write from a migration, a cron job,
--   psql or the service role's SQL fails with 42704 (unrecognized configuration parameter) inside the
--   trigger.
-- remediation: Use current_setting('name', true), which returns null when the setting is missing, and
--   handle null (or use auth.uid(), which already does).
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'trigger function calls ' || string_agg(distinct m[1], ', ') ||
       ' without missing_ok: it fails with 42704 when the setting is absent' as detail
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
cross join lateral regexp_matches(regexp_replace(p.prosrc, '--[^\n]*', '', 'g'),
  '(\mcurrent_setting\s*\(\s*(''([^'']|'''')*''|[^,()'']+)\s*\))', 'gi') m
where p.prorettype = 'trigger'::regtype
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes
