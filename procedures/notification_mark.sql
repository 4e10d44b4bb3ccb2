create or replace function public.notification_mark(notification_id uuid, delivered boolean, error text default null)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_n public.notifications%rowtype;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(notification_mark.error) > 16000 then
    raise exception using errcode = '22023', message = 'error is too long',
      detail = 'notification_error_invalid', constraint = 'notification_error_invalid', hint = 'Pass at most 4000 characters.';
  end if;
  -- Server only: EXECUTE is granted to service_role alone.
  if notification_mark.notification_id is null or notification_mark.delivered is null then
    raise exception using errcode = '22023', message = 'notification_id and delivered are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  select n.* into v_n from public.notifications n where n.id = notification_mark.notification_id for update;
  if not found then
    raise exception using errcode = 'PT404', message = 'notification not found',
      detail = 'notification_not_found', constraint = 'notification_not_found', hint = 'Check the notification id.';
  end if;
  if v_n.status <> 'sending' then
    raise exception using errcode = 'PT409', message = format('the notification is %s', v_n.status),
      detail = 'notification_not_sending', constraint = 'notification_not_sending', hint = 'Only a claimed notification (notifications_claim) can be marked.';
  end if;

  if notification_mark.delivered then
    update public.notifications n
    set status = 'sent', sent_at = now(), last_error = null
    where n.id = v_n.id;
  elsif v_n.attempts >= v_n.max_attempts then
    update public.notifications n
    set status = 'failed', last_error = left(coalesce(notification_mark.error, 'delivery failed'), 1000)
    where n.id = v_n.id;
  else
    -- Retry later: 2, 4, 8, 16 ... minutes after this attempt.
    update public.notifications n
    set status = 'pending',
        next_attempt_at = now() + make_interval(mins => power(2, v_n.attempts)::integer),
        last_error = left(coalesce(notification_mark.error, 'delivery failed'), 1000)
    where n.id = v_n.id;
  end if;
end
$$;
comment on function public.notification_mark(uuid, boolean, text) is
  'Server (service_role only): reports the delivery of a claimed (sending) notification. delivered: sent. Otherwise, with attempts left it goes back to pending with next_attempt_at backed off 2^attempts minutes, else failed; error is kept (first 1000 characters) in last_error. Errors: 22023 argument_required, PT404 notification_not_found, PT409 notification_not_sending.';
revoke execute on function public.notification_mark(uuid, boolean, text) from public, anon, authenticated, service_role;
grant execute on function public.notification_mark(uuid, boolean, text) to service_role;
