-- id: 0032
-- name: partition_missing_for_today
-- level: error
-- category: correctness
-- title: Partitioned table cannot take a row for today
-- description: A partitioned table has no partition at all (every insert fails), or it is range
--   partitioned on a date or timestamp column with neither a default partition nor a partition whose
--   bounds contain the current date and time: an insert for today fails with 23514 ("no partition of
--   relation found for row"). Typical of audit and event tables whose next partitions were never created.
-- remediation: Create the missing partitions ahead of time (a scheduled job, e.g. pg_cron or
--   pg_partman), and a default partition as a safety net.
with pt as (
  select c.oid, n.nspname, c.relname, p.partstrat, p.partnatts, p.partdefid, p.partattrs[0] as keyatt,
         (select count(*) from pg_inherits i where i.inhparent = c.oid) as nparts
  from pg_partitioned_table p
  join pg_class c on c.oid = p.partrelid
  join pg_namespace n on n.oid = c.relnamespace
  where pg_temp.dbtool_project_schema(n.nspname, $1::text[])
    and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
), ranged as (
  select pt.*, a.attname, format_type(a.atttypid, null) as keytype
  from pt
  join pg_attribute a on a.attrelid = pt.oid and a.attnum = pt.keyatt
  where pt.partstrat = 'r' and pt.partnatts = 1 and pt.keyatt <> 0 and pt.partdefid = 0 and pt.nparts > 0
    and a.atttypid in ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
), bounds as (
  select i.inhparent as parent, regexp_match(pg_get_expr(pc.relpartbound, pc.oid), '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') as b
  from pg_inherits i
  join pg_class pc on pc.oid = i.inhrelid
  where i.inhparent in (select oid from ranged)
)
select nspname || '.' || relname as object,
       'partitioned table' as object_type,
       'has no partition: every insert fails' as detail
from pt
where nparts = 0
union all
select r.nspname || '.' || r.relname,
       'partitioned table',
       'range partitioned on ' || r.attname || ' (' || r.keytype || ') with no default partition and no partition for today (' ||
       current_date || '): an insert for today fails'
from ranged r
where not exists (
  select 1 from bounds x
  where x.parent = r.oid and x.b is not null
    and (x.b[1] = 'MINVALUE' or case r.keytype when 'date' then btrim(x.b[1], '''')::date <= current_date
                                               when 'timestamp without time zone' then btrim(x.b[1], '''')::timestamp <= localtimestamp
                                               else btrim(x.b[1], '''')::timestamptz <= now() end)
    and (x.b[2] = 'MAXVALUE' or case r.keytype when 'date' then btrim(x.b[2], '''')::date > current_date
                                               when 'timestamp without time zone' then btrim(x.b[2], '''')::timestamp > localtimestamp
                                               else btrim(x.b[2], '''')::timestamptz > now() end))
