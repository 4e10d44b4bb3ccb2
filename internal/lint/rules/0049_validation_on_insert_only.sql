-- id: 0049
-- name: validation_on_insert_only
-- level: warn
-- category: security
-- title: Validation trigger fires on INSERT only, but API roles may UPDATE what it checks
-- analyzer: insert_only
-- description: A BEFORE INSERT trigger raises errors on conditions over NEW's columns, and does not fire on
--   UPDATE, while anon or authenticated may UPDATE some of those columns (column privilege and an UPDATE
--   policy, or no row level security). The rule holds for new rows only: the next PATCH sets the value the
--   trigger refused. Read on the PL/pgSQL parse tree (IF/CASE/ASSERT conditions that read NEW.column,
--   in a function that raises). A further condition (the row must be the caller's to update) keeps it at warn.
-- remediation: Fire the trigger on insert or update (of the checked columns), or move the rule into a CHECK
--   constraint, or revoke UPDATE on the columns.
select n.nspname || '.' || c.relname || '.' || t.tgname as object,
       'trigger' as object_type,
       'BEFORE INSERT only, calls ' || fn.nspname || '.' || p.proname || '(); ' ||
       string_agg(distinct r.rolname, ', ') || ' may UPDATE the columns it checks:' as detail,
       pg_get_functiondef(p.oid) || chr(31) ||
       string_agg(distinct a.attname, ',') as input
from pg_trigger t
join pg_class c on c.oid = t.tgrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_proc p on p.oid = t.tgfoid
join pg_namespace fn on fn.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_roles r on r.rolname = any($2::text[]) and (has_column_privilege(r.oid, c.oid, a.attnum, 'UPDATE') and pg_temp.dbtool_usage(r.oid, c.relnamespace))
where not t.tgisinternal
  and n.nspname = any($1::text[])
  and (t.tgtype & 2) <> 0           -- BEFORE
  and (t.tgtype & 4) <> 0           -- INSERT
  and (t.tgtype & 16) = 0           -- not UPDATE
  and (not c.relrowsecurity or exists (
        select 1 from pg_policy pol
        where pol.polrelid = c.oid and pol.polcmd in ('w', '*') and pol.polpermissive
          and (pol.polroles = '{0}' or r.oid = any(pol.polroles))))
group by n.nspname, c.relname, t.tgname, fn.nspname, p.proname, p.oid
