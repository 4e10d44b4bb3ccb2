create or replace function public.notifications_claim(appointment_id uuid)
returns setof public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_is_service boolean := private.is_service_role();
  v_business_id uuid;
  v_customer_id uuid;
  v_is_member boolean;
begin
  if v_uid is null and not v_is_service then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim) or the service_role key.';
  end if;
  if notifications_claim.appointment_id is null then
    raise exception using errcode = '22023', message = 'appointment_id is required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  select a.business_id, a.customer_id into v_business_id, v_customer_id
  from public.appointments a where a.id = notifications_claim.appointment_id;
  v_is_member := v_business_id is not null and exists (
    select 1 from public.business_members m where m.business_id = v_business_id and m.user_id = v_uid);
  if v_business_id is null or (not v_is_service and v_customer_id <> v_uid and not v_is_member
                               and not private.is_platform_admin()) then
    raise exception using errcode = 'PT404', message = 'appointment not found',
      detail = 'appointment_not_found', constraint = 'appointment_not_found', hint = 'Check the appointment id.';
  end if;
  if not v_is_service and v_customer_id <> v_uid and not v_is_member then
    raise exception using errcode = '42501', message = 'only the customer, the business''s members and the server claim notifications',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Platform admins read notifications; they do not deliver them.';
  end if;

  -- Rows left in sending with no attempts left are given up.
  update public.notifications n
  set status = 'failed', last_error = coalesce(n.last_error, 'claimed and never marked')
  where n.appointment_id = notifications_claim.appointment_id
    and n.status = 'sending' and n.claimed_at < now() - interval '10 minutes'
    and n.attempts >= n.max_attempts;

  -- Each row is claimed by one caller only: rows another transaction is
  -- claiming are skipped, not waited for.
  return query
    with claimable as (
      select n.id
      from public.notifications n
      where n.appointment_id = notifications_claim.appointment_id
        and ((n.status = 'pending' and n.next_attempt_at <= now())
             or (n.status = 'sending' and n.claimed_at < now() - interval '10 minutes' and n.attempts < n.max_attempts))
        and (v_is_service
             or (n.audience = 'customer' and n.recipient_id = v_uid)
             or (n.audience = 'business' and v_is_member))
      order by n.created_at, n.id
      for update skip locked
    )
    update public.notifications n
    set status = 'sending', claimed_at = now(), attempts = n.attempts + 1
    from claimable c
    where n.id = c.id
    returning n.*;
end
$$;
comment on function public.notifications_claim(uuid) is
  'Claims the due notifications of an appointment for delivery: pending rows whose next_attempt_at has come, and rows stuck in sending for 10 minutes with attempts left. Marks them sending (claimed_at, attempts + 1) and returns them; concurrent callers never get the same row (FOR UPDATE SKIP LOCKED). The customer claims the rows addressed to them, members of the business the business''s rows, service_role all. Errors: 42501 not_authenticated / permission_required (platform admins), 22023 argument_required, PT404 appointment_not_found.';
revoke execute on function public.notifications_claim(uuid) from public, anon, authenticated, service_role;
grant execute on function public.notifications_claim(uuid) to authenticated, service_role;
