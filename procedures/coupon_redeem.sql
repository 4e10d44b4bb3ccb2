create or replace function public.coupon_redeem(code text, hold_id uuid, idempotency_key text)
returns setof public.coupon_redemptions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_code text;
  v_hold public.holds%rowtype;
  v_coupon public.coupons%rowtype;
  v_redemption public.coupon_redemptions%rowtype;
  v_discount integer;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(coupon_redeem.code) > 128 then
    raise exception using errcode = '22023', message = 'code is too long',
      detail = 'coupon_code_invalid', constraint = 'coupon_code_invalid', hint = 'Pass at most 32 characters.';
  end if;
  if octet_length(coupon_redeem.idempotency_key) > 800 then
    raise exception using errcode = '22023', message = 'idempotency_key is too long',
      detail = 'idempotency_key_invalid', constraint = 'idempotency_key_invalid', hint = 'Pass at most 200 characters.';
  end if;
  v_code := upper(btrim(coupon_redeem.code, E' \t\r\n\f'));
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with the customer''s JWT (a sub claim).';
  end if;
  if coupon_redeem.code is null or coupon_redeem.hold_id is null or coupon_redeem.idempotency_key is null then
    raise exception using errcode = '22023', message = 'code, hold_id and idempotency_key are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  select h.* into v_hold from public.holds h where h.id = coupon_redeem.hold_id;
  -- Members of the business and platform admins can see the hold, so for
  -- them it exists: 42501. Everyone else: the same error as a missing id.
  if not found or (v_hold.customer_id <> v_uid
                   and not exists (select 1 from public.business_members m
                                   where m.business_id = v_hold.business_id and m.user_id = v_uid)
                   and not private.is_platform_admin()) then
    raise exception using errcode = 'PT404', message = 'hold not found',
      detail = 'hold_not_found', constraint = 'hold_not_found', hint = 'Pass one of your own holds.';
  end if;
  if v_hold.customer_id <> v_uid then
    raise exception using errcode = '42501', message = 'only the hold''s customer can redeem a coupon on it',
      detail = 'hold_owner_required', constraint = 'hold_owner_required', hint = 'The customer redeems coupons on their own hold.';
  end if;
  if char_length(btrim(coupon_redeem.idempotency_key, E' \t\r\n\f')) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'idempotency_key must be 1 to 200 characters',
      detail = 'idempotency_key_invalid', constraint = 'idempotency_key_invalid', hint = 'Pass a unique key per request (e.g. a UUID) and reuse it on retries.';
  end if;
  if v_code !~ '^[A-Z0-9][A-Z0-9_-]{2,31}$' then
    raise exception using errcode = '22023', message = 'not a coupon code',
      detail = 'coupon_code_invalid', constraint = 'coupon_code_invalid', hint = 'Coupon codes are 3 to 32 letters, digits, _ or -.';
  end if;

  -- Requests with one idempotency key run one at a time, so a replay sent
  -- for another hold at the same moment finds the first redemption and is
  -- refused as idempotency_key_reused (not by the unique index).
  perform pg_advisory_xact_lock(hashtextextended('coupon_redeem:' || v_uid::text || ':' || coupon_redeem.idempotency_key, 0));
  -- Lock order: the hold (one coupon per hold; payment_session_record locks
  -- it too), then the coupon (its caps).
  select h.* into v_hold from public.holds h where h.id = coupon_redeem.hold_id for update;
  if not found then -- deleted meanwhile (its vehicle, address or service was deleted)
    raise exception using errcode = 'PT404', message = 'hold not found',
      detail = 'hold_not_found', constraint = 'hold_not_found', hint = 'Pass one of your own holds.';
  end if;

  -- A replay returns the first redemption.
  select r.* into v_redemption
  from public.coupon_redemptions r
  where r.customer_id = v_uid and r.idempotency_key = coupon_redeem.idempotency_key;
  if found then
    if v_redemption.hold_id is distinct from v_hold.id or v_redemption.code <> v_code then
      raise exception using errcode = '23505', message = 'idempotency_key was used for another redemption',
        detail = 'idempotency_key_reused', constraint = 'idempotency_key_reused', hint = 'Use a new idempotency_key for a different request.';
    end if;
    return next v_redemption;
    return;
  end if;

  if v_hold.status <> 'active' then
    raise exception using errcode = 'PT409', message = format('the hold is %s', v_hold.status),
      detail = 'hold_not_active', constraint = 'hold_not_active', hint = 'Apply a coupon to an active hold.';
  end if;
  if v_hold.expires_at <= now() then
    raise exception using errcode = 'P0001', message = 'the hold has expired',
      detail = 'hold_expired', constraint = 'hold_expired', hint = 'Create a new hold; the slot may still be free.';
  end if;
  if exists (select 1 from public.coupon_redemptions r where r.hold_id = v_hold.id) then
    raise exception using errcode = 'PT409', message = 'a coupon was already applied to this hold',
      detail = 'coupon_already_applied', constraint = 'coupon_already_applied', hint = 'One coupon per booking.';
  end if;
  if exists (select 1 from public.payment_sessions ps where ps.hold_id = v_hold.id) then
    raise exception using errcode = 'PT409', message = 'payment for this hold has started',
      detail = 'payment_started', constraint = 'payment_started', hint = 'Apply coupons before paying.';
  end if;

  select c.* into v_coupon
  from public.coupons c
  where c.business_id = v_hold.business_id and c.code = v_code
  for update;
  if not found or not v_coupon.active then
    raise exception using errcode = 'PT404', message = 'coupon not found',
      detail = 'coupon_not_found', constraint = 'coupon_not_found', hint = 'Check the code.';
  end if;
  if now() < v_coupon.valid_from then
    raise exception using errcode = 'P0001', message = 'this coupon is not valid yet',
      detail = 'coupon_not_yet_valid', constraint = 'coupon_not_yet_valid', hint = 'Try again when the offer starts.';
  end if;
  if v_coupon.valid_until is not null and now() >= v_coupon.valid_until then
    raise exception using errcode = 'P0001', message = 'this coupon has expired',
      detail = 'coupon_expired', constraint = 'coupon_expired', hint = 'The offer has ended.';
  end if;
  -- Live redemptions only: a hold that expired or was released without a
  -- payment under way gives its redemption back.
  if v_coupon.max_redemptions is not null and (
    select count(*)
    from public.coupon_redemptions r
    join public.holds h on h.id = r.hold_id
    where r.coupon_id = v_coupon.id
      and (h.status = 'confirmed'
           or (h.status = 'active' and h.expires_at > now())
           or exists (select 1 from public.payment_sessions ps
                      where ps.hold_id = h.id and ps.status in ('pending', 'succeeded')))
  ) >= v_coupon.max_redemptions then
    raise exception using errcode = 'P0001', message = 'this coupon has been used up',
      detail = 'coupon_exhausted', constraint = 'coupon_exhausted', hint = 'The offer has ended.';
  end if;
  if (
    select count(*)
    from public.coupon_redemptions r
    join public.holds h on h.id = r.hold_id
    where r.coupon_id = v_coupon.id and r.customer_id = v_uid
      and (h.status = 'confirmed'
           or (h.status = 'active' and h.expires_at > now())
           or exists (select 1 from public.payment_sessions ps
                      where ps.hold_id = h.id and ps.status in ('pending', 'succeeded')))
  ) >= v_coupon.per_customer_limit then
    raise exception using errcode = 'P0001', message = 'you have used this coupon as often as allowed',
      detail = 'coupon_customer_limit_reached', constraint = 'coupon_customer_limit_reached', hint = 'The offer is limited per customer.';
  end if;

  v_discount := case v_coupon.discount_kind
    when 'percent' then (v_hold.price_cents::bigint * v_coupon.discount_value / 100)::integer
    else least(v_coupon.discount_value, v_hold.price_cents)
  end;

  insert into public.coupon_redemptions
    (coupon_id, business_id, customer_id, hold_id, code, discount_cents, amount_before_cents, idempotency_key)
  values (v_coupon.id, v_hold.business_id, v_uid, v_hold.id, v_code, v_discount, v_hold.price_cents, coupon_redeem.idempotency_key)
  returning * into v_redemption;
  update public.holds h set discount_cents = v_discount where h.id = v_hold.id;

  return next v_redemption;
end
$$;
comment on function public.coupon_redeem(text, uuid, text) is
  'The hold''s customer applies a coupon of the hold''s business (code, case-insensitive) to an active hold before paying: a percent (rounded down) or an amount (at most the price) off price_cents lowers holds.amount_due_cents. One coupon per hold. Under the coupon''s row lock (FOR UPDATE) it checks the validity window, max_redemptions and per_customer_limit, counting live redemptions only (hold active and unexpired, confirmed, or with a pending/succeeded payment session). Idempotent on idempotency_key (per customer). Errors: 42501 not_authenticated / hold_owner_required, 22023 argument_required / idempotency_key_invalid / coupon_code_invalid, PT404 hold_not_found / coupon_not_found (unknown or inactive), 23505 idempotency_key_reused, P0001 hold_expired / coupon_not_yet_valid / coupon_expired / coupon_exhausted / coupon_customer_limit_reached, PT409 hold_not_active / coupon_already_applied / payment_started.';
revoke execute on function public.coupon_redeem(text, uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.coupon_redeem(text, uuid, text) to authenticated, service_role;
