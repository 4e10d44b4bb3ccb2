-- id: 0045
-- name: secret_in_code
-- level: warn
-- category: security
-- title: Credential written into the schema (routine, trigger argument, default, comment or setting)
-- analyzer: secrets
-- description: A routine body, a trigger's arguments, a column default, a comment or an ALTER DATABASE/ROLE
--   ... SET value holds a credential: a JWT that is not an anon key (a service_role key bypasses every
--   policy), an API key of a known provider (Stripe sk_live_/rk_live_, AWS AKIA..., GitHub ghp_, Slack
--   xox., Google AIza..., SendGrid SG.), a URL or connection string with a password, or a long random
--   value assigned to something named key, secret, token or password. Every role that can connect reads
--   pg_proc, pg_trigger, pg_attrdef, pg_description and pg_db_role_setting, and the migrations that wrote
--   it live in the repository. Not reachable through an API request by itself, so warn. The finding shows
--   only the credential's first characters.
-- remediation: Rotate the credential, then read it at run time from a table no API role can read (a private
--   schema, Supabase Vault) or from a setting the platform injects; never write it into a migration.
with user_ns as (
  select n.oid, n.nspname from pg_namespace n
  where pg_temp.dbtool_project_schema(n.nspname, $1::text[])
)
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type, 'in its body' as detail, p.prosrc as input
from pg_proc p join user_ns n on n.oid = p.pronamespace
where not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
union all
select n.nspname || '.' || c.relname || '.' || t.tgname, 'trigger', 'in its arguments',
       encode(t.tgargs, 'escape')
from pg_trigger t join pg_class c on c.oid = t.tgrelid join user_ns n on n.oid = c.relnamespace
where not t.tgisinternal and t.tgnargs > 0
union all
select n.nspname || '.' || c.relname || '.' || a.attname, 'column', 'in its default',
       pg_get_expr(d.adbin, d.adrelid)
from pg_attrdef d
join pg_class c on c.oid = d.adrelid join user_ns n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
union all
select coalesce(n.nspname || '.' || c.relname, n2.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')', s.nspname),
       case when c.oid is not null then 'table' when p.oid is not null then 'function' else 'schema' end,
       'in its comment', ds.description
from pg_description ds
left join pg_class c on ds.classoid = 'pg_class'::regclass and c.oid = ds.objoid
left join user_ns n on n.oid = c.relnamespace
left join pg_proc p on ds.classoid = 'pg_proc'::regclass and p.oid = ds.objoid
left join user_ns n2 on n2.oid = p.pronamespace
left join user_ns s on ds.classoid = 'pg_namespace'::regclass and s.oid = ds.objoid
where coalesce(n.nspname, n2.nspname, s.nspname) is not null
union all
select case when s.setdatabase <> 0 then 'database ' || d.datname else 'role ' || r.rolname end
         || case when s.setdatabase <> 0 and s.setrole <> 0 then ', role ' || r.rolname else '' end,
       case when s.setrole <> 0 then 'role' else 'database' end,
       'in ALTER ' || case when s.setrole <> 0 then 'ROLE' else 'DATABASE' end || ' ... SET',
       array_to_string(s.setconfig, chr(10))
from pg_db_role_setting s
left join pg_database d on d.oid = s.setdatabase
left join pg_roles r on r.oid = s.setrole
where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
