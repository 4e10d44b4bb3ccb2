-- id: 0005
-- name: references_trigger_granted_to_api_role
-- level: warn
-- category: security
-- title: REFERENCES or TRIGGER granted to an API role
-- description: An API role holds REFERENCES (it may create foreign keys to the table, which reveals
--   which keys exist and can block deletes) or TRIGGER (it may create triggers on the table). Neither is
--   governed by row level security, and the API never needs them.
-- remediation: revoke references, trigger on ... from anon, authenticated.
select n.nspname || '.' || c.relname as object,
       case c.relkind when 'p' then 'partitioned table' else 'table' end as object_type,
       string_agg(x.role || ' holds ' || x.privs, '; ' order by x.role) as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
cross join lateral (
  select r.rolname as role,
         string_agg(p.priv || case when has_table_privilege(r.oid, c.oid, p.priv) then '' else ' (some columns)' end,
                    ', ' order by p.priv) as privs
  from pg_roles r
  cross join unnest(array['REFERENCES', 'TRIGGER']) p(priv)
  where r.rolname = any($2::text[])
    and (has_table_privilege(r.oid, c.oid, p.priv)
         or (p.priv = 'REFERENCES' and has_any_column_privilege(r.oid, c.oid, p.priv)))
  group by r.rolname
) x
where n.nspname = any($1::text[])
  and c.relkind in ('r', 'p')
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
group by n.nspname, c.relname, c.relkind
