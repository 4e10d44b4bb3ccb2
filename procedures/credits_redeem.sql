create or replace function public.credits_redeem(appointment_id uuid, amount integer, idempotency_key text)
returns setof public.credit_ledger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_appt public.appointments%rowtype;
  v_balance integer;
  v_entry public.credit_ledger%rowtype;
  v_visible boolean;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(credits_redeem.idempotency_key) > 800 then
    raise exception using errcode = '22023', message = 'idempotency_key is too long',
      detail = 'idempotency_key_invalid', constraint = 'idempotency_key_invalid', hint = 'Pass at most 200 characters.';
  end if;
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with the customer''s JWT (a sub claim).';
  end if;
  if credits_redeem.appointment_id is null or credits_redeem.amount is null or credits_redeem.idempotency_key is null then
    raise exception using errcode = '22023', message = 'appointment_id, amount and idempotency_key are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  select a.* into v_appt from public.appointments a where a.id = credits_redeem.appointment_id;
  -- Members of the business and platform admins can see the appointment, so
  -- for them it exists: 42501. Everyone else: the same error as a missing id.
  -- (The membership query runs only for someone else's appointment: the
  -- customer's own call evaluates no query here.)
  v_visible := found;
  if v_visible and v_appt.customer_id <> v_uid then
    v_visible := exists (select 1 from public.business_members m
                         where m.business_id = v_appt.business_id and m.user_id = v_uid)
                 or private.is_platform_admin();
  end if;
  if not v_visible then
    raise exception using errcode = 'PT404', message = 'appointment not found',
      detail = 'appointment_not_found', constraint = 'appointment_not_found', hint = 'Check the appointment id.';
  end if;
  if v_appt.customer_id <> v_uid then
    raise exception using errcode = '42501', message = 'only the appointment''s customer can redeem credits for it',
      detail = 'appointment_customer_required', constraint = 'appointment_customer_required', hint = 'The customer redeems their own credits.';
  end if;
  if credits_redeem.amount not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'amount must be 1 to 10000 credits',
      detail = 'credits_amount_invalid', constraint = 'credits_amount_invalid', hint = 'Pass a positive number of credits.';
  end if;
  if char_length(btrim(credits_redeem.idempotency_key, E' \t\r\n\f')) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'idempotency_key must be 1 to 200 characters',
      detail = 'idempotency_key_invalid', constraint = 'idempotency_key_invalid', hint = 'Pass a unique key per request (e.g. a UUID) and reuse it on retries.';
  end if;

  -- Lock the balance row: concurrent redemptions serialise here and each
  -- sees the balance the previous one left. No row yet: no credits, and no
  -- ledger entry either (the credit_ledger_apply trigger creates the row
  -- with the first entry), so nothing to replay; the call fails below.
  select cb.balance into v_balance
  from public.credit_balances cb
  where cb.business_id = v_appt.business_id and cb.customer_id = v_uid
  for update;
  v_balance := coalesce(v_balance, 0);

  select l.* into v_entry
  from public.credit_ledger l
  where l.business_id = v_appt.business_id and l.customer_id = v_uid
    and l.kind = 'redeem' and l.idempotency_key = credits_redeem.idempotency_key;
  if found then
    if v_entry.appointment_id <> credits_redeem.appointment_id or v_entry.delta <> -credits_redeem.amount then
      raise exception using errcode = '23505', message = 'idempotency_key was used for another redemption',
        detail = 'idempotency_key_reused', constraint = 'idempotency_key_reused', hint = 'Use a new idempotency_key for a different request.';
    end if;
    return next v_entry;
    return;
  end if;

  -- Re-read the status under a share lock: a concurrent cancel either
  -- committed before (seen here) or waits for this transaction.
  select a.status into v_appt.status from public.appointments a where a.id = v_appt.id for share;
  if v_appt.status <> 'confirmed' then
    raise exception using errcode = 'PT409', message = format('credits cannot be redeemed for a %s appointment', v_appt.status),
      detail = 'appointment_not_active', constraint = 'appointment_not_active', hint = 'Redeem credits for a confirmed appointment.';
  end if;
  if v_balance < credits_redeem.amount then
    raise exception using errcode = 'P0001', message = format('the balance is %s credits', v_balance),
      detail = 'insufficient_credits', constraint = 'insufficient_credits', hint = 'Redeem at most your balance (credit_balances).';
  end if;

  insert into public.credit_ledger (business_id, customer_id, kind, delta, reason, idempotency_key, appointment_id, created_by, created_by_role)
  values (v_appt.business_id, v_uid, 'redeem', -credits_redeem.amount, 'redeemed for an appointment',
          credits_redeem.idempotency_key, v_appt.id, v_uid, 'customer')
  returning * into v_entry;
  return next v_entry;
end
$$;
comment on function public.credits_redeem(uuid, integer, text) is
  'The appointment''s customer spends amount credits of their balance at its business on a confirmed appointment. Never below zero: the credit_balances row is locked FOR UPDATE before the balance is checked. Idempotent: a replay with the same idempotency_key returns the first entry (even after the appointment changed); the same key for another appointment or amount is refused. Errors: 42501 not_authenticated / appointment_customer_required, 22023 argument_required / credits_amount_invalid / idempotency_key_invalid, PT404 appointment_not_found, 23505 idempotency_key_reused, P0001 insufficient_credits, PT409 appointment_not_active.';
revoke execute on function public.credits_redeem(uuid, integer, text) from public, anon, authenticated, service_role;
grant execute on function public.credits_redeem(uuid, integer, text) to authenticated, service_role;
