-- id: 0062
-- name: user_column_without_fk
-- level: info
-- category: correctness
-- title: Column compared with auth.uid() that references no user
-- analyzer: uid_columns
-- description: A policy compares a uuid column with auth.uid() (the column holds a user's id), but the
--   column has no foreign key to auth.users (nor to a table keyed by it): rows keep the ids of deleted
--   accounts (and match a future account that reuses nothing, but nothing cleans them up), and a writer
--   can store any uuid, a user that does not exist. Read on the policy's parse tree.
-- remediation: alter table ... add foreign key (user_id) references auth.users (id) on delete cascade (or
--   set null, or to a profiles table keyed by the user).
with pol as (
  select p.polrelid, coalesce(pg_get_expr(p.polqual, p.polrelid), 'true') || ' and ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), 'true') as expr
  from pg_policy p
  join pg_class c on c.oid = p.polrelid
  join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = any($1::text[])
), cand as (
  -- uuid columns without a foreign key that a policy mentioning auth.uid()/jwt() names
  select pol.polrelid, a.attname, pol.expr
  from pol
  join pg_attribute a on a.attrelid = pol.polrelid and a.attnum > 0 and not a.attisdropped and a.atttypid = 'uuid'::regtype
  where pol.expr ~* 'auth\.(uid|jwt)' and strpos(pol.expr, a.attname) > 0
    and not exists (select 1 from pg_constraint k where k.conrelid = a.attrelid and k.contype = 'f' and a.attnum = any(k.conkey))
)
select n.nspname || '.' || c.relname as object,
       'table' as object_type,
       'user ids without a foreign key: ' as detail,
       string_agg(distinct cand.expr, ' and ') || chr(31) || string_agg(distinct cand.attname, ',') as input
from cand
join pg_class c on c.oid = cand.polrelid
join pg_namespace n on n.oid = c.relnamespace
group by n.nspname, c.relname
