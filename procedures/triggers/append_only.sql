-- Append-only tables: the credit ledger and the audit log. API roles have no
-- UPDATE/DELETE/TRUNCATE grant; this refuses them for everyone else too
-- (the owner, a superuser, service_role given a grant by mistake).
create or replace function private.refuse_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception using
    errcode = '42501',
    message = format('%s is append-only: %s is not allowed', tg_table_name, tg_op),
    detail = tg_argv[0],
    constraint = tg_argv[0],
    hint = 'Entries are never changed or removed; write a correcting entry instead.';
end
$$;
comment on function private.refuse_change() is
  'BEFORE UPDATE/DELETE (row) and BEFORE TRUNCATE (statement) trigger of append-only tables: always raises 42501 with the rule name given as the trigger argument (credit_ledger_append_only, audit_log_append_only).';
revoke execute on function private.refuse_change() from public, anon, authenticated, service_role;

drop trigger if exists credit_ledger_append_only on public.credit_ledger;
create trigger credit_ledger_append_only
  before update or delete on public.credit_ledger
  for each row execute function private.refuse_change('credit_ledger_append_only');
drop trigger if exists credit_ledger_append_only_truncate on public.credit_ledger;
create trigger credit_ledger_append_only_truncate
  before truncate on public.credit_ledger
  for each statement execute function private.refuse_change('credit_ledger_append_only');

drop trigger if exists audit_log_append_only on public.audit_log;
create trigger audit_log_append_only
  before update or delete on public.audit_log
  for each row execute function private.refuse_change('audit_log_append_only');
drop trigger if exists audit_log_append_only_truncate on public.audit_log;
create trigger audit_log_append_only_truncate
  before truncate on public.audit_log
  for each statement execute function private.refuse_change('audit_log_append_only');

-- Partitions of the audit log get the TRUNCATE guard too (a TRUNCATE of one
-- partition does not fire its parent's trigger); audit_partitions_ensure adds
-- it to the partitions it creates.
do $$
declare
  part regclass;
begin
  for part in
    select i.inhrelid::regclass from pg_catalog.pg_inherits i where i.inhparent = 'public.audit_log'::regclass
  loop
    execute format('drop trigger if exists audit_log_append_only_truncate on %s', part);
    execute format(
      'create trigger audit_log_append_only_truncate before truncate on %s for each statement execute function private.refuse_change(%L)',
      part, 'audit_log_append_only');
  end loop;
end
$$;
