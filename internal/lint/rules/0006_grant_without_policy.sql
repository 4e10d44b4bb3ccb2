-- id: 0006
-- name: grant_without_policy
-- level: info
-- category: security
-- title: Privilege that no policy allows (dead grant)
-- description: Row level security is on and an API role holds a command privilege (SELECT, INSERT,
--   UPDATE or DELETE, on the table or some of its columns) but no permissive policy for that command
--   applies to the role: every such request is denied (SELECT, UPDATE and DELETE see no rows, INSERT
--   fails). Deliberate when the command goes through a function instead; otherwise a policy is missing.
-- remediation: Write the missing policy, or revoke the privilege so that grants say what is allowed.
with cmd(cmd, priv, polcmds, ord) as (
  values ('select', 'SELECT', array['r', '*']::"char"[], 1),
         ('insert', 'INSERT', array['a', '*']::"char"[], 2),
         ('update', 'UPDATE', array['w', '*']::"char"[], 3),
         ('delete', 'DELETE', array['d', '*']::"char"[], 4)
)
select n.nspname || '.' || c.relname as object,
       case c.relkind when 'p' then 'partitioned table' else 'table' end as object_type,
       string_agg(r.rolname || ' holds ' || k.priv || ' but no permissive policy allows ' || k.cmd, '; '
                  order by r.rolname, k.ord) || ': denied at run time' as detail
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
cross join pg_roles r
cross join cmd k
where n.nspname = any($1::text[])
  and c.relkind in ('r', 'p')
  and c.relrowsecurity
  and r.rolname = any($2::text[])
  and ((has_table_privilege(r.oid, c.oid, k.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace))
       or (k.priv in ('SELECT', 'INSERT', 'UPDATE') and (has_any_column_privilege(r.oid, c.oid, k.priv) and pg_temp.dbtool_usage(r.oid, c.relnamespace))))
  and not exists (
    select 1 from pg_policy p
    where p.polrelid = c.oid and p.polpermissive and p.polcmd = any(k.polcmds)
      and exists (select 1 from unnest(p.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
      -- a policy without the expression the command uses contributes nothing
      and case k.cmd when 'insert' then coalesce(p.polwithcheck, p.polqual) is not null else p.polqual is not null end)
  and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
group by n.nspname, c.relname, c.relkind
