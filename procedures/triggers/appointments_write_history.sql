-- appointment_status_history rows, written for the customer, the business and
-- notification dispatchers to read. Procedures pass a note through the
-- transaction-local setting booking.change_note (and clear it afterwards).
create or replace function private.appointments_write_history()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.status is not distinct from new.status and old.slot is not distinct from new.slot then
    return null;
  end if;
  insert into public.appointment_status_history
    (appointment_id, business_id, customer_id, from_status, to_status, from_slot, to_slot, changed_by, changed_by_role, note)
  values (
    new.id, new.business_id, new.customer_id,
    case when tg_op = 'UPDATE' then old.status end, new.status,
    case when tg_op = 'UPDATE' then old.slot end, new.slot,
    -- customers never read staff user ids: the kind, and the id only when
    -- the customer acted (audit_log keeps who, for the business's owners)
    case when auth.uid() = new.customer_id then new.customer_id end,
    case when auth.uid() = new.customer_id then 'customer' else private.actor_role(new.business_id, new.customer_id) end,
    nullif(current_setting('booking.change_note', true), ''));
  return null;
end
$$;
comment on function private.appointments_write_history() is
  'AFTER INSERT / UPDATE OF status, slot trigger on appointments: appends an appointment_status_history row (who: changed_by_role, and changed_by when the customer acted; note: the booking.change_note setting, if any).';
revoke execute on function private.appointments_write_history() from public, anon, authenticated, service_role;

drop trigger if exists appointments_write_history on public.appointments;
create trigger appointments_write_history
  after insert or update of status, slot on public.appointments
  for each row execute function private.appointments_write_history();
