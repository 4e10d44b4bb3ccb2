-- id: 0057
-- name: notify_whole_row
-- level: info
-- category: security
-- title: pg_notify sends whole rows to every listener
-- analyzer: notify_row
-- description: A routine (often a trigger) calls pg_notify with a payload built from a whole row
--   (to_json(new), row_to_json(old), jsonb_build_object(..., new)): every session that LISTENs on the
--   channel, whatever its role and whatever row level security would show it, receives every column of
--   every changed row. Payloads are also cut at 8000 bytes. Info: no API request can LISTEN by itself.
-- remediation: Send the row's id (and its table) and let the listener read the row with its own
--   rights, or send only the columns every listener may see.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'pg_notify payload built from a whole row' as detail,
       l.lanname || chr(31) || case when l.lanname = 'plpgsql' then pg_get_functiondef(p.oid) else p.prosrc end as input
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname in ('sql', 'plpgsql')
where p.prosrc ~* 'pg_notify'
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
