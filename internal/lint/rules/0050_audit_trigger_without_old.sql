-- id: 0050
-- name: audit_trigger_without_old
-- level: info
-- category: correctness
-- title: Audit trigger on UPDATE or DELETE that never records OLD
-- analyzer: audit_without_old
-- description: A trigger that fires on UPDATE or DELETE calls a function that writes rows (an audit,
--   history or log table) and never reads OLD: the trail records what a row became, not what it was or
--   who it belonged to, so a change cannot be undone or attributed from it (a DELETE records nothing
--   of the row at all). Read on the PL/pgSQL parse tree (every statement's SQL parsed; no verdict when
--   one does not parse).
-- remediation: Record OLD too (to_jsonb(old), or the changed columns' old values) on UPDATE and DELETE.
select n.nspname || '.' || c.relname || '.' || t.tgname as object,
       'trigger' as object_type,
       'fires on ' || concat_ws(' or ', case when (t.tgtype & 16) <> 0 then 'UPDATE' end, case when (t.tgtype & 8) <> 0 then 'DELETE' end) ||
       ', calls ' || fn.nspname || '.' || p.proname || '(), which writes rows but never reads OLD' as detail,
       pg_get_functiondef(p.oid) as input
from pg_trigger t
join pg_class c on c.oid = t.tgrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_proc p on p.oid = t.tgfoid
join pg_namespace fn on fn.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
where not t.tgisinternal
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and (t.tgtype & 1) <> 0           -- FOR EACH ROW
  and (t.tgtype & 24) <> 0          -- UPDATE or DELETE
  and p.prosrc ~* '\minsert\M'
  and (p.proname ~* 'audit|history|log|track|journal' or p.prosrc ~* '\minsert\s+into\s+[\w."]*(audit|history|log|journal)')
