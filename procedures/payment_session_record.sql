create or replace function public.payment_session_record(hold_id uuid, provider_session_id text)
returns setof public.payment_sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_hold public.holds%rowtype;
  v_session public.payment_sessions%rowtype;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(payment_session_record.provider_session_id) > 1020 then
    raise exception using errcode = '22023', message = 'provider_session_id is too long',
      detail = 'provider_session_id_invalid', constraint = 'provider_session_id_invalid', hint = 'Pass at most 255 characters.';
  end if;
  -- Server only: EXECUTE is granted to service_role alone.
  if payment_session_record.hold_id is null or payment_session_record.provider_session_id is null then
    raise exception using errcode = '22023', message = 'hold_id and provider_session_id are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if char_length(payment_session_record.provider_session_id) not between 1 and 255 then
    raise exception using errcode = '22023', message = 'provider_session_id must be 1 to 255 characters',
      detail = 'provider_session_id_invalid', constraint = 'provider_session_id_invalid', hint = 'Pass the provider''s checkout session id.';
  end if;

  -- The hold row is the lock (coupon_redeem takes it too): the amount cannot
  -- change between reading it here and committing.
  select h.* into v_hold from public.holds h where h.id = payment_session_record.hold_id for update;
  if not found then
    raise exception using errcode = 'PT404', message = 'hold not found',
      detail = 'hold_not_found', constraint = 'hold_not_found', hint = 'Check the hold id.';
  end if;

  -- Idempotent on the provider's id: a replay returns the recorded session.
  select ps.* into v_session
  from public.payment_sessions ps
  where ps.provider_session_id = payment_session_record.provider_session_id;
  if found then
    if v_session.hold_id is distinct from v_hold.id then
      raise exception using errcode = '23505', message = 'provider_session_id is recorded for another hold',
        detail = 'provider_session_id_taken', constraint = 'provider_session_id_taken', hint = 'Each checkout session belongs to one hold.';
    end if;
    return next v_session;
    return;
  end if;

  if exists (select 1 from public.payment_sessions ps where ps.hold_id = v_hold.id) then
    raise exception using errcode = 'PT409', message = 'this hold already has a payment session',
      detail = 'payment_session_exists', constraint = 'payment_session_exists', hint = 'One payment session per hold: reuse it, or create a new hold.';
  end if;
  if v_hold.status <> 'active' then
    raise exception using errcode = 'PT409', message = format('the hold is %s', v_hold.status),
      detail = 'hold_not_active', constraint = 'hold_not_active', hint = 'Create a new hold.';
  end if;
  if v_hold.expires_at <= now() then
    raise exception using errcode = 'P0001', message = 'the hold has expired',
      detail = 'hold_expired', constraint = 'hold_expired', hint = 'Create a new hold; the slot may still be free.';
  end if;

  insert into public.payment_sessions (hold_id, business_id, customer_id, provider_session_id, amount_cents, currency)
  select v_hold.id, v_hold.business_id, v_hold.customer_id, payment_session_record.provider_session_id,
         v_hold.amount_due_cents, b.currency
  from public.businesses b
  where b.id = v_hold.business_id
  returning * into v_session;
  return next v_session;
end
$$;
comment on function public.payment_session_record(uuid, text) is
  'Server (service_role only): records the provider checkout session created for an active, unexpired hold. amount_cents is the hold''s amount_due_cents (after any coupon) and currency the business''s, read here under the hold''s row lock, never passed in. One session per hold; idempotent on provider_session_id (a replay returns the recorded session). Errors: 22023 argument_required / provider_session_id_invalid, PT404 hold_not_found, 23505 provider_session_id_taken, P0001 hold_expired, PT409 payment_session_exists / hold_not_active.';
revoke execute on function public.payment_session_record(uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.payment_session_record(uuid, text) to service_role;
