-- id: 0040
-- name: ignore_without_reason
-- level: error
-- category: correctness
-- title: Inline ignore without a reason
-- description: A comment ignores a rule with "@dbtool-ignore rule_name" but gives no reason (or names no
--   rule). The ignore is not honoured: the next reviewer must know why the finding is acceptable.
-- remediation: Write the reason after a colon, on the same line:
--   comment on table public.audit is '... @dbtool-ignore rls_disabled_in_public: written by triggers only'.
with commented(object, object_type, description) as (
  select n.nspname || '.' || c.relname || coalesce('.' || a.attname, ''),
         case when a.attname is not null then 'column'
              else case c.relkind when 'p' then 'partitioned table' when 'v' then 'view' when 'm' then 'materialized view'
                                  when 'i' then 'index' when 'I' then 'index' else 'table' end end,
         d.description
  from pg_description d
  join pg_class c on d.classoid = 'pg_class'::regclass and c.oid = d.objoid
  join pg_namespace n on n.oid = c.relnamespace
  left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid and d.objsubid > 0
  where d.description like '%@dbtool-ignore%'
  union all
  select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')', 'function', d.description
  from pg_description d
  join pg_proc p on d.classoid = 'pg_proc'::regclass and p.oid = d.objoid
  join pg_namespace n on n.oid = p.pronamespace
  where d.description like '%@dbtool-ignore%'
  union all
  select n.nspname || '.' || c.relname || '.' || pol.polname, 'policy', d.description
  from pg_description d
  join pg_policy pol on d.classoid = 'pg_policy'::regclass and pol.oid = d.objoid
  join pg_class c on c.oid = pol.polrelid
  join pg_namespace n on n.oid = c.relnamespace
  where d.description like '%@dbtool-ignore%'
  union all
  select n.nspname || '.' || coalesce(c.relname, t.typname) || '.' || k.conname, 'constraint', d.description
  from pg_description d
  join pg_constraint k on d.classoid = 'pg_constraint'::regclass and k.oid = d.objoid
  join pg_namespace n on n.oid = k.connamespace
  left join pg_class c on c.oid = k.conrelid
  left join pg_type t on t.oid = k.contypid
  where d.description like '%@dbtool-ignore%'
  union all
  select n.nspname || '.' || c.relname || '.' || tg.tgname, 'trigger', d.description
  from pg_description d
  join pg_trigger tg on d.classoid = 'pg_trigger'::regclass and tg.oid = d.objoid
  join pg_class c on c.oid = tg.tgrelid
  join pg_namespace n on n.oid = c.relnamespace
  where d.description like '%@dbtool-ignore%'
  union all
  select n.nspname, 'schema', d.description
  from pg_description d
  join pg_namespace n on d.classoid = 'pg_namespace'::regclass and n.oid = d.objoid
  where d.description like '%@dbtool-ignore%'
), ignores as (
  select c.object, c.object_type, x.ord,
         regexp_match(split_part(x.piece, E'\n', 1), '^\s*([A-Za-z0-9_]+)\s*(:(.*))?$') as m
  from commented c
  cross join lateral regexp_split_to_table(c.description, '@dbtool-ignore') with ordinality x(piece, ord)
  where x.ord > 1
)
select object, object_type,
       case when m is null then 'an @dbtool-ignore names no rule'
            else '@dbtool-ignore ' || m[1] || ' has no reason: write "@dbtool-ignore ' || m[1] || ': why"' end as detail
from ignores
where m is null or coalesce(btrim(m[3]), '') = ''
