create or replace function public.reminders_queue(window_start timestamptz, window_end timestamptz)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  -- Scheduler only: EXECUTE is granted to service_role alone.
  if reminders_queue.window_start is null or reminders_queue.window_end is null then
    raise exception using errcode = '22023', message = 'window_start and window_end are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if reminders_queue.window_end <= reminders_queue.window_start
     or reminders_queue.window_end - reminders_queue.window_start > interval '7 days' then
    raise exception using errcode = '22023', message = 'the window must end after it starts and span at most 7 days',
      detail = 'reminder_window_invalid', constraint = 'reminder_window_invalid', hint = 'Pass e.g. window_start => now(), window_end => now() + interval ''24 hours''.';
  end if;

  -- One reminder per appointment, however often this runs
  -- (notifications_appointment_id_reminder_key).
  insert into public.notifications (business_id, customer_id, appointment_id, audience, recipient_id, kind, payload)
  select a.business_id, a.customer_id, a.id, 'customer', a.customer_id, 'appointment_reminder',
         jsonb_build_object('starts_at', lower(a.slot), 'ends_at', upper(a.slot))
  from public.appointments a
  where a.status = 'confirmed'
    and lower(a.slot) >= reminders_queue.window_start
    and lower(a.slot) < reminders_queue.window_end
  order by lower(a.slot), a.id
  on conflict (appointment_id) where kind = 'appointment_reminder' do nothing;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function public.reminders_queue(timestamptz, timestamptz) is
  'Scheduler (service_role only): queues an appointment_reminder notification for the customer of every confirmed appointment starting in [window_start, window_end) that has none yet, and returns how many it queued. Running it again queues nothing twice (unique index notifications_appointment_id_reminder_key). Errors: 22023 argument_required / reminder_window_invalid.';
revoke execute on function public.reminders_queue(timestamptz, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.reminders_queue(timestamptz, timestamptz) to service_role;
