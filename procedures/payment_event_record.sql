create or replace function public.payment_event_record(
  provider_event_id text,
  provider_session_id text,
  status text,
  amount_cents integer)
returns setof public.payment_events
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_event public.payment_events%rowtype;
  v_session public.payment_sessions%rowtype;
  v_hold public.holds%rowtype;
  v_outcome text;
  v_appointment_id uuid;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(payment_event_record.provider_event_id) > 1020 then
    raise exception using errcode = '22023', message = 'provider_event_id is too long',
      detail = 'provider_event_id_invalid', constraint = 'provider_event_id_invalid', hint = 'Pass at most 255 characters.';
  end if;
  if octet_length(payment_event_record.provider_session_id) > 1020 then
    raise exception using errcode = '22023', message = 'provider_session_id is too long',
      detail = 'provider_session_id_invalid', constraint = 'provider_session_id_invalid', hint = 'Pass at most 255 characters.';
  end if;
  if octet_length(payment_event_record.status) > 64 then
    raise exception using errcode = '22023', message = 'status is too long',
      detail = 'payment_status_invalid', constraint = 'payment_status_invalid', hint = 'Pass at most 16 characters.';
  end if;
  -- Webhook only: EXECUTE is granted to service_role alone.
  if payment_event_record.provider_event_id is null or payment_event_record.provider_session_id is null
     or payment_event_record.status is null or payment_event_record.amount_cents is null then
    raise exception using errcode = '22023', message = 'provider_event_id, provider_session_id, status and amount_cents are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if char_length(payment_event_record.provider_event_id) not between 1 and 255 then
    raise exception using errcode = '22023', message = 'provider_event_id must be 1 to 255 characters',
      detail = 'provider_event_id_invalid', constraint = 'provider_event_id_invalid', hint = 'Pass the provider''s event id.';
  end if;
  if payment_event_record.status not in ('pending', 'succeeded', 'failed', 'refunded') then
    raise exception using errcode = '22023', message = format('invalid payment status %s', private.excerpt(payment_event_record.status)),
      detail = 'payment_status_invalid', constraint = 'payment_status_invalid', hint = 'Map the provider''s event to pending, succeeded, failed or refunded.';
  end if;
  if payment_event_record.amount_cents not between 0 and 100000000 then
    raise exception using errcode = '22023', message = 'amount_cents must be 0 to 100000000',
      detail = 'payment_amount_invalid', constraint = 'payment_amount_invalid', hint = 'Pass the amount the provider reports, in cents.';
  end if;

  -- Idempotent on the provider's event id: a replay returns the stored event.
  select e.* into v_event from public.payment_events e where e.provider_event_id = payment_event_record.provider_event_id;
  if found then
    return next v_event;
    return;
  end if;

  select ps.* into v_session from public.payment_sessions ps where ps.provider_session_id = payment_event_record.provider_session_id;
  if not found then
    raise exception using errcode = 'PT404', message = 'payment session not found',
      detail = 'payment_session_not_found', constraint = 'payment_session_not_found', hint = 'Record the session with payment_session_record before its events arrive; the provider will retry.';
  end if;

  -- Lock order everywhere: the session, then the hold, then the crew
  -- (private.crew_claim, in appointment_from_hold). No customer lock: a
  -- paid booking counts against no cap. A duplicate delivery of this event
  -- waits at the session.
  select ps.* into v_session from public.payment_sessions ps where ps.id = v_session.id for update;
  select e.* into v_event from public.payment_events e where e.provider_event_id = payment_event_record.provider_event_id;
  if found then
    return next v_event;
    return;
  end if;
  if v_session.hold_id is not null then
    select h.* into v_hold from public.holds h where h.id = v_session.hold_id for update;
  end if;

  if payment_event_record.status = 'pending' then
    v_outcome := 'recorded';
  elsif payment_event_record.status = 'failed' then
    if v_session.status = 'pending' then
      v_outcome := 'failed';
      update public.payment_sessions ps set status = 'failed' where ps.id = v_session.id;
    else
      v_outcome := 'ignored';
    end if;
  elsif payment_event_record.status = 'refunded' then
    if v_session.status in ('succeeded', 'refund_required', 'amount_mismatch') then
      v_outcome := 'refunded';
      update public.payment_sessions ps set status = 'refunded' where ps.id = v_session.id;
      -- The booking the money paid for: cancelled when it has not started
      -- (its crew is free again), flagged for staff otherwise; its revenue
      -- leaves business_stats either way.
      if v_session.appointment_id is not null then
        v_appointment_id := v_session.appointment_id;
        perform set_config('booking.change_note', 'payment refunded', true);
        update public.appointments a
        set refunded_at = coalesce(a.refunded_at, now()),
            status = case when a.status = 'confirmed' then 'cancelled' else a.status end,
            cancelled_at = case when a.status = 'confirmed' then now() else a.cancelled_at end,
            cancelled_by_role = case when a.status = 'confirmed' then 'system' else a.cancelled_by_role end,
            cancel_reason = case when a.status = 'confirmed' then 'payment refunded' else a.cancel_reason end
        where a.id = v_session.appointment_id;
        perform set_config('booking.change_note', '', true);
      end if;
    else
      v_outcome := 'ignored';
    end if;
  elsif v_session.status not in ('pending', 'failed') then
    -- succeeded, but the session is settled already (another event did it).
    v_outcome := 'ignored';
  elsif payment_event_record.amount_cents <> v_session.amount_cents then
    -- The charged amount is not what the database asked for: never confirm.
    v_outcome := 'amount_mismatch';
    update public.payment_sessions ps set status = 'amount_mismatch' where ps.id = v_session.id;
  else
    if v_hold.id is null then
      v_outcome := 'refund_required';                -- the hold was deleted
    elsif v_hold.status = 'confirmed' then
      -- Confirmed meanwhile through hold_confirm: the payment belongs to it.
      select a.id into v_appointment_id from public.appointments a where a.hold_id = v_hold.id;
      v_outcome := case when v_appointment_id is null then 'refund_required' else 'confirmed' end;
    elsif v_hold.status = 'released' or lower(v_hold.slot) <= now() then
      v_outcome := 'refund_required';                -- given back, or too late
    elsif not private.coupon_still_honoured(v_hold.id) then
      v_outcome := 'refund_required';                -- its coupon lapsed and was taken by others
    else
      -- Active (even past expires_at) or expired by the sweep: book it if a
      -- crew is still free. The customer's payment is the act: the
      -- notification triggers address the business.
      perform set_config('booking.actor_id', v_hold.customer_id::text, true);
      begin
        v_appointment_id := (private.appointment_from_hold(v_hold)).id;
      exception when exclusion_violation then
        v_appointment_id := null;                    -- the backstop constraint fired
      end;
      perform set_config('booking.actor_id', '', true);
      if v_appointment_id is null then
        v_outcome := 'refund_required';              -- the slot was lost meanwhile
      else
        v_outcome := 'confirmed';
        insert into public.notifications (business_id, customer_id, appointment_id, audience, recipient_id, kind, payload)
        select a.business_id, a.customer_id, a.id, 'customer', a.customer_id, 'appointment_confirmed',
               jsonb_build_object('starts_at', lower(a.slot), 'ends_at', upper(a.slot),
                                  'amount_cents', v_session.amount_cents, 'currency', v_session.currency)
        from public.appointments a where a.id = v_appointment_id;
      end if;
    end if;
    update public.payment_sessions ps
    set status = case when v_outcome = 'confirmed' then 'succeeded' else 'refund_required' end,
        appointment_id = case when v_outcome = 'confirmed' then v_appointment_id end
    where ps.id = v_session.id;
  end if;

  insert into public.payment_events
    (provider_event_id, payment_session_id, business_id, customer_id, status, amount_cents, expected_amount_cents, outcome, appointment_id)
  values
    (payment_event_record.provider_event_id, v_session.id, v_session.business_id, v_session.customer_id,
     payment_event_record.status, payment_event_record.amount_cents, v_session.amount_cents, v_outcome,
     case when v_outcome in ('confirmed', 'refunded') then v_appointment_id end)
  returning * into v_event;
  return next v_event;
end
$$;
comment on function public.payment_event_record(text, text, text, integer) is
  'Payment webhook (service_role only): stores a provider event once per provider_event_id (a replay returns the stored event) and acts on it. Session, business, customer, hold and expected amount come from the database (payment_sessions by provider_session_id), never from the payload. succeeded with the expected amount books the hold under the booking lock (private.appointment_from_hold, as hold_confirm; no customer caps, the customer paid) and queues an appointment_confirmed notification for the customer; if the hold was released, deleted, its slot started or was taken meanwhile, or the coupon applied to it lapsed and was used up by others meanwhile, the session becomes refund_required. A different amount is recorded as amount_mismatch and confirms nothing. failed marks a pending session failed; refunded closes a refund and changes the booking it paid for: a confirmed appointment is cancelled (reason payment refunded; its crew is free again), one that started or ended keeps its status; both get refunded_at and no revenue in business_stats; the event carries the appointment_id. Returns the event with its outcome (recorded, failed, confirmed, amount_mismatch, refund_required, refunded, ignored). Errors: 22023 argument_required / provider_event_id_invalid / payment_status_invalid / payment_amount_invalid, PT404 payment_session_not_found.';
revoke execute on function public.payment_event_record(text, text, text, integer) from public, anon, authenticated, service_role;
grant execute on function public.payment_event_record(text, text, text, integer) to service_role;
