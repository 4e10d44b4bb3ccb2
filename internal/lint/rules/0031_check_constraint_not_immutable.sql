-- id: 0031
-- name: check_constraint_not_immutable
-- level: warn
-- category: correctness
-- title: CHECK constraint that is not immutable
-- analyzer: clock_check
-- description: A CHECK constraint calls something whose result changes over time or between sessions
--   (now(), current_date, current_timestamp, clock_timestamp(), random(), current_user, or a STABLE or
--   VOLATILE function). PostgreSQL checks it only when a row is written: rows valid then become invalid
--   later, so an unrelated UPDATE of an old row fails, and a dump fails to restore. A CHECK on the clock
--   alone is reported only when a row can turn invalid as time passes (starts_at >= now() can; born_on <=
--   current_date - interval '18 years' cannot), read on the CHECK's parse tree.
-- remediation: Check the value in a trigger (BEFORE INSERT) instead, or compare with a column (e.g.
--   starts_at < ends_at) rather than with the clock.
with k as (
  select k.oid, k.conname, n.nspname, coalesce(c.relname, t.typname) as parent, pg_get_constraintdef(k.oid) as def,
         case when k.contypid <> 0 then 'domain ' else '' end as kind
  from pg_constraint k
  join pg_namespace n on n.oid = k.connamespace
  left join pg_class c on c.oid = k.conrelid
  left join pg_type t on t.oid = k.contypid
  where k.contype = 'c'
    and (c.oid is null or c.relkind in ('r', 'p', 'f'))
    and (c.oid is null or not c.relispartition)
    and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
), calls(oid, what) as (
  -- functions of the database (built-in ones are not recorded in pg_depend)
  select k.oid, f.proname || '() (' || case f.provolatile when 's' then 'stable' else 'volatile' end || ')'
  from k
  join pg_depend d on d.classid = 'pg_constraint'::regclass and d.objid = k.oid and d.refclassid = 'pg_proc'::regclass
  join pg_proc f on f.oid = d.refobjid and f.provolatile <> 'i'
  union
  select k.oid, 'operator ' || o.oprname || ' (' || case f.provolatile when 's' then 'stable' else 'volatile' end || ')'
  from k
  join pg_depend d on d.classid = 'pg_constraint'::regclass and d.objid = k.oid and d.refclassid = 'pg_operator'::regclass
  join pg_operator o on o.oid = d.refobjid
  join pg_proc f on f.oid = o.oprcode and f.provolatile <> 'i'
  union
  -- built-in functions called by name, when no overload of that name is immutable
  select k.oid, m[1] || '() (' || case when bool_and(f.provolatile = 'v') then 'volatile' else 'stable' end || ')'
  from k
  cross join lateral regexp_matches(k.def, '(?:^|[^\w.])(\w+)\(', 'g') m
  join pg_proc f on f.pronamespace = 'pg_catalog'::regnamespace and f.proname = m[1]
  group by k.oid, m[1]
  having bool_and(f.provolatile <> 'i')
  union
  select k.oid, lower(m[1])
  from k
  cross join lateral regexp_matches(k.def,
    '\m(CURRENT_DATE|CURRENT_TIMESTAMP|CURRENT_TIME|LOCALTIMESTAMP|LOCALTIME|CURRENT_USER|SESSION_USER|CURRENT_ROLE)\M', 'g') m
)
select k.nspname || '.' || k.parent || '.' || k.conname as object,
       'constraint' as object_type,
       k.kind || k.def || ' calls ' || string_agg(c.what, ', ' order by c.what) ||
       ': it is checked only when a row is written, so valid rows turn invalid (a later update or a restore fails)' as detail,
       k.def || chr(31) || string_agg(c.what, ', ' order by c.what) as input
from k
join calls c on c.oid = k.oid
group by k.nspname, k.parent, k.conname, k.kind, k.def
