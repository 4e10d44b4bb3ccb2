create or replace function public.credits_grant(
  business_id uuid,
  customer_id uuid,
  amount integer,
  reason text,
  idempotency_key text)
returns setof public.credit_ledger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_is_service boolean := private.is_service_role();
  v_balance integer;
  v_entry public.credit_ledger%rowtype;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(credits_grant.reason) > 800 then
    raise exception using errcode = '22023', message = 'reason is too long',
      detail = 'credits_reason_invalid', constraint = 'credits_reason_invalid', hint = 'Pass at most 200 characters.';
  end if;
  if octet_length(credits_grant.idempotency_key) > 800 then
    raise exception using errcode = '22023', message = 'idempotency_key is too long',
      detail = 'idempotency_key_invalid', constraint = 'idempotency_key_invalid', hint = 'Pass at most 200 characters.';
  end if;
  if v_uid is null and not v_is_service then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim) or the service_role key.';
  end if;
  if credits_grant.business_id is null or credits_grant.customer_id is null or credits_grant.amount is null
     or credits_grant.reason is null or credits_grant.idempotency_key is null then
    raise exception using errcode = '22023', message = 'business_id, customer_id, amount, reason and idempotency_key are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if not exists (select 1 from public.businesses b where b.id = credits_grant.business_id) then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  if not v_is_service and not private.has_permission(credits_grant.business_id, 'credits.manage') then
    raise exception using errcode = '42501', message = 'permission credits.manage required',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Ask an owner for a role with credits.manage.';
  end if;
  if credits_grant.amount = 0 or credits_grant.amount not between -10000 and 10000 then
    raise exception using errcode = '22023', message = 'amount must be a non-zero number of credits between -10000 and 10000',
      detail = 'credits_amount_invalid', constraint = 'credits_amount_invalid', hint = 'Pass a positive amount to grant, a negative one to correct a balance.';
  end if;
  if char_length(btrim(credits_grant.reason, E' \t\r\n\f')) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'reason must be 1 to 200 characters',
      detail = 'credits_reason_invalid', constraint = 'credits_reason_invalid', hint = 'Say why the credits are granted, in at most 200 characters.';
  end if;
  if char_length(btrim(credits_grant.idempotency_key, E' \t\r\n\f')) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'idempotency_key must be 1 to 200 characters',
      detail = 'idempotency_key_invalid', constraint = 'idempotency_key_invalid', hint = 'Pass a unique key per request (e.g. a UUID) and reuse it on retries.';
  end if;
  -- Credits go to customers of this business only; an unknown user and a
  -- user who never booked or joined here get the same answer.
  if not private.is_customer_of(credits_grant.business_id, credits_grant.customer_id) then
    raise exception using errcode = 'PT404', message = 'customer not found',
      detail = 'customer_not_found', constraint = 'customer_not_found', hint = 'Credits go to customers of this business (a hold, an appointment or a membership there).';
  end if;

  -- The balance row is the lock: grants and redemptions of this customer at
  -- this business serialise here, replays included.
  insert into public.credit_balances (business_id, customer_id, balance)
  values (credits_grant.business_id, credits_grant.customer_id, 0)
  on conflict on constraint credit_balances_pkey do nothing;
  select cb.balance into v_balance
  from public.credit_balances cb
  where cb.business_id = credits_grant.business_id and cb.customer_id = credits_grant.customer_id
  for update;

  -- A replay returns the first entry; the same key with other arguments is refused.
  select l.* into v_entry
  from public.credit_ledger l
  where l.business_id = credits_grant.business_id and l.customer_id = credits_grant.customer_id
    and l.kind = 'grant' and l.idempotency_key = credits_grant.idempotency_key;
  if found then
    if v_entry.delta <> credits_grant.amount or v_entry.reason <> btrim(credits_grant.reason, E' \t\r\n\f') then
      raise exception using errcode = '23505', message = 'idempotency_key was used for another grant',
        detail = 'idempotency_key_reused', constraint = 'idempotency_key_reused', hint = 'Use a new idempotency_key for a different request.';
    end if;
    return next v_entry;
    return;
  end if;

  if v_balance + credits_grant.amount < 0 then
    raise exception using errcode = 'P0001', message = format('the balance is %s credits', v_balance),
      detail = 'insufficient_credits', constraint = 'insufficient_credits', hint = 'A correction cannot take the balance below zero.';
  end if;

  insert into public.credit_ledger (business_id, customer_id, kind, delta, reason, idempotency_key, created_by, created_by_role)
  values (credits_grant.business_id, credits_grant.customer_id, 'grant', credits_grant.amount,
          btrim(credits_grant.reason, E' \t\r\n\f'), credits_grant.idempotency_key,
          case when v_uid = credits_grant.customer_id then v_uid end,
          private.actor_role(credits_grant.business_id, credits_grant.customer_id))
  returning * into v_entry;
  return next v_entry;
end
$$;
comment on function public.credits_grant(uuid, uuid, integer, text, text) is
  'Members with credits.manage (owners hold it) or service_role: grants amount credits (negative: a correction, never below zero) to customer_id at business_id, with a reason. Idempotent: a replay with the same idempotency_key returns the first ledger entry; the same key with another amount or reason is refused. Serialised on the credit_balances row (FOR UPDATE). Errors: 42501 not_authenticated / permission_required, 22023 argument_required / credits_amount_invalid / credits_reason_invalid / idempotency_key_invalid, PT404 business_not_found / customer_not_found (no such user, or not a customer of the business: no hold, appointment or membership there; the same error for both), 23505 idempotency_key_reused, P0001 insufficient_credits.';
revoke execute on function public.credits_grant(uuid, uuid, integer, text, text) from public, anon, authenticated, service_role;
grant execute on function public.credits_grant(uuid, uuid, integer, text, text) to authenticated, service_role;
