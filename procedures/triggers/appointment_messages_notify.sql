-- A message in an appointment's thread notifies the other party.
create or replace function private.appointment_messages_notify()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_audience text := case when new.author_role = 'customer' then 'business' else 'customer' end;
begin
  insert into public.notifications (business_id, customer_id, appointment_id, audience, recipient_id, kind, payload)
  values (
    new.business_id, new.customer_id, new.appointment_id, v_audience,
    case when v_audience = 'customer' then new.customer_id end,
    'appointment_message',
    jsonb_build_object(
      'message_id', new.id,
      'author_role', new.author_role,
      'preview', left(new.body, 140)));
  return null;
end
$$;
comment on function private.appointment_messages_notify() is
  'AFTER INSERT trigger on appointment_messages: queues an appointment_message notification for the other party (the business for a customer''s message, the customer for a staff message) with a 140-character preview.';
revoke execute on function private.appointment_messages_notify() from public, anon, authenticated, service_role;

drop trigger if exists appointment_messages_notify on public.appointment_messages;
create trigger appointment_messages_notify
  after insert on public.appointment_messages
  for each row execute function private.appointment_messages_notify();
