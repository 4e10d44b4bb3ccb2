-- Everything written after an appointment is, in one AFTER row trigger (it
-- was three: appointments_audit, appointments_notify and
-- appointments_write_history; one call and one reading of the JWT instead of
-- three and five, measured with the booking benchmark). In their order:
--
-- 1. The audit row (private.audit_write, as for every audited table).
-- 2. A notification for the other party: when the customer acts, the
--    business is told; when anyone else acts (staff, an admin, the system),
--    the customer is. Procedures acting for someone without a JWT
--    (payment_event_record) name the actor in the transaction-local setting
--    booking.actor_id.
-- 3. An appointment_status_history row on creation, a status change or a
--    reschedule, for the customer, the business and notification dispatchers
--    to read. Procedures pass a note through the transaction-local setting
--    booking.change_note (and clear it afterwards).
create or replace function private.appointments_after_write()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_actor uuid;
  v_kind text;
  v_audience text;
begin
  perform private.audit_write(
    v_uid, tg_table_name, tg_op,
    case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) end,
    case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) end);

  if tg_op = 'DELETE' then
    return null;
  elsif tg_op = 'INSERT' then
    v_kind := 'appointment_created';
  elsif old.status is distinct from new.status then
    v_kind := case when new.status = 'cancelled' then 'appointment_cancelled' else 'appointment_status_changed' end;
  elsif old.slot is distinct from new.slot then
    v_kind := 'appointment_rescheduled';
  else
    return null;
  end if;

  v_actor := coalesce(v_uid, nullif(current_setting('booking.actor_id', true), '')::uuid);
  v_audience := case when v_actor = new.customer_id then 'business' else 'customer' end;
  insert into public.notifications (business_id, customer_id, appointment_id, audience, recipient_id, kind, payload)
  values (
    new.business_id, new.customer_id, new.id, v_audience,
    case when v_audience = 'customer' then new.customer_id end,
    v_kind,
    jsonb_strip_nulls(jsonb_build_object(
      'status', new.status,
      'from_status', case when tg_op = 'UPDATE' and old.status is distinct from new.status then old.status end,
      'starts_at', lower(new.slot),
      'ends_at', upper(new.slot),
      'from_starts_at', case when tg_op = 'UPDATE' and old.slot is distinct from new.slot then lower(old.slot) end,
      'cancel_reason', new.cancel_reason,
      'actor_id', case when v_audience = 'business' then v_actor end)));

  insert into public.appointment_status_history
    (appointment_id, business_id, customer_id, from_status, to_status, from_slot, to_slot, changed_by, changed_by_role, note)
  values (
    new.id, new.business_id, new.customer_id,
    case when tg_op = 'UPDATE' then old.status end, new.status,
    case when tg_op = 'UPDATE' then old.slot end, new.slot,
    case when v_uid = new.customer_id then new.customer_id end,
    case when v_uid = new.customer_id then 'customer' else private.actor_role(new.business_id, new.customer_id) end,
    nullif(current_setting('booking.change_note', true), ''));
  return null;
end
$$;
comment on function private.appointments_after_write() is
  'AFTER INSERT / UPDATE / DELETE row trigger on appointments: the audit_log row (every write); on creation, a status change or a reschedule, a notification for the other party (the business when the actor, auth.uid() else the booking.actor_id setting, is the customer; else the customer: appointment_created, appointment_cancelled, appointment_status_changed or appointment_rescheduled) and an appointment_status_history row (changed_by_role, changed_by when the customer acted, note from the booking.change_note setting).';
revoke execute on function private.appointments_after_write() from public, anon, authenticated, service_role;

-- The three triggers it replaces, and their functions (no-ops once gone).
drop trigger if exists appointments_audit on public.appointments;
drop trigger if exists appointments_notify on public.appointments;
drop trigger if exists appointments_write_history on public.appointments;
drop function if exists private.appointments_notify();
drop function if exists private.appointments_write_history();

drop trigger if exists appointments_after_write on public.appointments;
create trigger appointments_after_write
  after insert or update or delete on public.appointments
  for each row execute function private.appointments_after_write();
