-- id: 0038
-- name: multiple_permissive_policies
-- level: info
-- category: performance
-- title: Several permissive policies for the same role and command
-- description: A table has more than one permissive policy for the same role and command. PostgreSQL
--   evaluates them all, OR-ed, for every row, and each is a separate place where access is granted: a
--   reviewer must read them together to know who sees what.
-- remediation: Merge them into one policy per role and command (using (a or b)), or make the extra
--   ones restrictive when they are meant to narrow access.
with cmd(cmd, polcmds, ord) as (
  values ('select', array['r', '*']::"char"[], 1), ('insert', array['a', '*']::"char"[], 2),
         ('update', array['w', '*']::"char"[], 3), ('delete', array['d', '*']::"char"[], 4)
), per_role as (
  select c.oid, n.nspname, c.relname, c.relkind, k.cmd, k.ord, r.rolname,
         string_agg(p.polname, ', ' order by p.polname) as policies
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  cross join cmd k
  join pg_roles r on r.rolname = any($2::text[])
  join pg_policy p on p.polrelid = c.oid and p.polpermissive and p.polcmd = any(k.polcmds)
   and exists (select 1 from unnest(p.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
  where n.nspname = any($1::text[]) and c.relkind in ('r', 'p')
  group by c.oid, n.nspname, c.relname, c.relkind, k.cmd, k.ord, r.rolname
  having count(*) > 1
)
select nspname || '.' || relname as object,
       case relkind when 'p' then 'partitioned table' else 'table' end as object_type,
       'for ' || cmd || ' to ' || string_agg(rolname, ', ' order by rolname) || ': permissive policies ' || policies ||
       ' are all evaluated (OR-ed)' as detail
from per_role
group by nspname, relname, relkind, cmd, ord, policies
order by 1, ord
