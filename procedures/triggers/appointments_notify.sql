-- Notifications about an appointment for the other party: when its customer
-- acts, the business is told; when anyone else acts (staff, an admin, the
-- system), the customer is. Procedures acting for someone without a JWT
-- (payment_event_record) name the actor in the transaction-local setting
-- booking.actor_id.
create or replace function private.appointments_notify()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := coalesce(auth.uid(), nullif(current_setting('booking.actor_id', true), '')::uuid);
  v_kind text;
  v_audience text;
begin
  if tg_op = 'INSERT' then
    v_kind := 'appointment_created';
  elsif old.status is distinct from new.status then
    v_kind := case when new.status = 'cancelled' then 'appointment_cancelled' else 'appointment_status_changed' end;
  elsif old.slot is distinct from new.slot then
    v_kind := 'appointment_rescheduled';
  else
    return null;
  end if;
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
      -- who acted, for the business only (customers do not learn staff user ids)
      'actor_id', case when v_audience = 'business' then v_actor end)));
  return null;
end
$$;
comment on function private.appointments_notify() is
  'AFTER INSERT / UPDATE OF status, slot trigger on appointments: queues a notification (appointment_created, appointment_cancelled, appointment_status_changed or appointment_rescheduled) for the other party: the business when the actor (auth.uid(), else the booking.actor_id setting) is the customer, else the customer.';
revoke execute on function private.appointments_notify() from public, anon, authenticated, service_role;

drop trigger if exists appointments_notify on public.appointments;
create trigger appointments_notify
  after insert or update of status, slot on public.appointments
  for each row execute function private.appointments_notify();
