-- The audit log: who did what on the tables that carry money, credits,
-- bookings, membership of businesses and settings.
-- private.audit_write: the one place an audit row is made (audit_row below
-- for most tables; appointments_after_write for appointments, which passes
-- the JWT sub it has already read). Invoker, no SET clause: it is called
-- only from SECURITY DEFINER trigger functions (search_path ''), every name
-- is schema-qualified, and EXECUTE is closed to the API roles.
create or replace function private.audit_write(actor_id uuid, table_name text, operation text, old_row jsonb, new_row jsonb)
returns void
language plpgsql
volatile
as $$
begin
  insert into public.audit_log (actor_id, actor_role, business_id, table_name, operation, old_row, new_row)
  values (
    audit_write.actor_id,
    coalesce(auth.role(), nullif(pg_catalog.current_setting('role', true), 'none'), session_user),
    (coalesce(audit_write.new_row, audit_write.old_row) operator(pg_catalog.->>) 'business_id')::pg_catalog.uuid,
    audit_write.table_name,
    audit_write.operation,
    audit_write.old_row,
    audit_write.new_row);
end
$$;
comment on function private.audit_write(uuid, text, text, jsonb, jsonb) is
  'Appends one audit_log row: actor_id (the JWT sub, passed by the trigger), the actor''s role (JWT role claim, else the session role), the row''s business_id, the table, the operation and the row before and after. Called by the audit triggers only.';
revoke execute on function private.audit_write(uuid, text, text, jsonb, jsonb) from public, anon, authenticated, service_role;

create or replace function private.audit_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.audit_write(
    auth.uid(), tg_table_name, tg_op,
    case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) end,
    case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) end);
  return null;
end
$$;
comment on function private.audit_row() is
  'AFTER INSERT/UPDATE/DELETE row trigger: appends to audit_log (private.audit_write) the actor (JWT sub; JWT role claim, else the session role), the row''s business_id, the table, the operation and the row before and after as jsonb. Appointments have their own trigger (private.appointments_after_write), which writes the same row.';
revoke execute on function private.audit_row() from public, anon, authenticated, service_role;

do $$
declare
  t text;
begin
  foreach t in array array[
    'payment_sessions', 'payment_events', 'credit_ledger',
    'memberships', 'business_members', 'business_settings', 'appointment_messages']
  loop
    execute format('drop trigger if exists %I on public.%I', t || '_audit', t);
    execute format(
      'create trigger %I after insert or update or delete on public.%I for each row execute function private.audit_row()',
      t || '_audit', t);
  end loop;
end
$$;
