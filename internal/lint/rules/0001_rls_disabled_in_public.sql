-- id: 0001
-- name: rls_disabled_in_public
-- level: error
-- category: security
-- title: Table exposed to API roles without row level security
-- description: A table or partitioned table in an exposed schema has row level security off while an
--   API role holds privileges on it: every row is readable or writable through the API. A partition
--   counts too: it can be queried directly, bypassing its parent's policies.
-- remediation: Enable row level security (alter table ... enable row level security) and write policies,
--   or revoke the API roles' privileges.
select n.nspname || '.' || c.relname as object,
       case c.relkind when 'p' then 'partitioned table' else 'table' end as object_type,
       'row level security is off and ' || g.held ||
       case when c.relispartition then ' (a partition of ' || pn.nspname || '.' || pc.relname ||
                                       ': reachable directly, without the parent''s policies)' else '' end as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_inherits i on c.relispartition and i.inhrelid = c.oid
left join pg_class pc on pc.oid = i.inhparent
left join pg_namespace pn on pn.oid = pc.relnamespace
cross join lateral (
  select string_agg(x.role || ' holds ' || x.privs, '; ' order by x.role) as held
  from (
    select r.rolname as role,
           string_agg(p.priv || case when (has_table_privilege(r.oid, c.oid, p.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace)) then '' else ' (some columns)' end,
                      ', ' order by p.ord) as privs
    from pg_roles r
    cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) with ordinality p(priv, ord)
    where r.rolname = any($2::text[])
      and ((has_table_privilege(r.oid, c.oid, p.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace))
           or (p.priv in ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') and (has_any_column_privilege(r.oid, c.oid, p.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace))))
    group by r.rolname
  ) x
) g
where n.nspname = any($1::text[])
  and c.relkind in ('r', 'p')
  and not c.relrowsecurity
  and g.held is not null
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
