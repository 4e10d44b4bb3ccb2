-- id: 0004
-- name: truncate_granted_to_api_role
-- level: error
-- category: security
-- title: TRUNCATE granted to an API role
-- description: An API role holds TRUNCATE on a table. Row level security does not apply to TRUNCATE: the
--   role can remove every row of the table, whatever the policies say.
-- remediation: revoke truncate on ... from anon, authenticated. Supabase's default privileges grant it on
--   every new table in public: revoke it table by table, or change the default privileges.
select n.nspname || '.' || c.relname as object,
       case c.relkind when 'p' then 'partitioned table' else 'table' end as object_type,
       string_agg(r.rolname, ', ' order by r.rolname) ||
       ' may TRUNCATE it: row level security does not apply to TRUNCATE, which removes every row' as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_roles r on r.rolname = any($2::text[]) and has_table_privilege(r.oid, c.oid, 'TRUNCATE')
where n.nspname = any($1::text[])
  and c.relkind in ('r', 'p')
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
group by n.nspname, c.relname, c.relkind
