-- id: 0053
-- name: money_column_unbounded
-- level: warn
-- category: correctness
-- title: Money or quantity column that API roles write, with no CHECK bound
-- description: A numeric column named like an amount (price, amount, total, cost, fee, balance, discount,
--   tax, quantity, qty, credits, ...) of an exposed table can be written by anon or authenticated (column
--   privilege and an INSERT or UPDATE policy, or no row level security), and no CHECK constraint (of the
--   table or of its domain) mentions it: a client can store a negative price, a quantity of -5 or a
--   balance of 10^9, and every sum over it is wrong. Warn: what a bad value does depends on who reads it.
-- remediation: alter table ... add constraint ..._check check (price_cents >= 0) (and an upper bound where
--   one exists), or write the column through a procedure only (revoke insert/update on it).
select n.nspname || '.' || c.relname || '.' || a.attname as object,
       'column' as object_type,
       format_type(a.atttypid, a.atttypmod) || ', no CHECK; ' ||
       string_agg(distinct r.rolname || ' may ' || lower(w.cmd), ', ') || ' it' as detail
from pg_attribute a
join pg_class c on c.oid = a.attrelid and c.relkind in ('r', 'p') and not c.relispartition
join pg_namespace n on n.oid = c.relnamespace
join pg_type ty on ty.oid = a.atttypid
cross join lateral (values ('INSERT', 'a'), ('UPDATE', 'w')) w(cmd, polcmd)
join pg_roles r on r.rolname = any($2::text[]) and (has_column_privilege(r.oid, c.oid, a.attnum, w.cmd) and pg_temp.dbtool_usage(r.oid, c.relnamespace))
where n.nspname = any($1::text[])
  and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
  and coalesce(nullif(ty.typbasetype, 0), ty.oid) in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype,
                                                        'float4'::regtype, 'float8'::regtype, 'money'::regtype)
  and a.attname ~* '(^|_)(price|prices|amount|amounts|total|subtotal|cost|costs|fee|fees|balance|discount|tax|tip|refund|payout|quantity|qty|credits?)(_cents|_minor|_usd|_eur)?$'
  and not exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'c' and a.attnum = any(k.conkey))
  and not exists (select 1 from pg_constraint k where k.contypid = a.atttypid and k.contype = 'c')
  and (not c.relrowsecurity or exists (
        select 1 from pg_policy pol
        where pol.polrelid = c.oid and pol.polcmd in (w.polcmd, '*') and pol.polpermissive
          and (pol.polroles = '{0}' or r.oid = any(pol.polroles))))
group by n.nspname, c.relname, a.attname, a.atttypid, a.atttypmod
