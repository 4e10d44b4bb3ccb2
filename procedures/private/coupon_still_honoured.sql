-- private.coupon_still_honoured(hold_id): may this hold still be booked with
-- the coupon applied to it? A redemption stops counting towards the coupon's
-- caps while its hold is neither active, confirmed nor paying (coupon_redeem
-- counts live redemptions only), so others may have taken it meanwhile; a
-- late payment (e.g. a retry after a failed one) must then not confirm a
-- second discounted booking. Locks the coupon row (after the hold, the same
-- order as coupon_redeem). True when the hold has no coupon.
create or replace function private.coupon_still_honoured(hold_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_redemption public.coupon_redemptions;
  v_coupon public.coupons;
  v_live_total integer;
  v_live_customer integer;
begin
  select r.* into v_redemption from public.coupon_redemptions r where r.hold_id = coupon_still_honoured.hold_id;
  if v_redemption.id is null then
    return true;
  end if;
  select c.* into v_coupon from public.coupons c where c.id = v_redemption.coupon_id for update;
  select count(*) filter (where true), count(*) filter (where r.customer_id = v_redemption.customer_id)
    into v_live_total, v_live_customer
  from public.coupon_redemptions r
  join public.holds h on h.id = r.hold_id
  where r.coupon_id = v_coupon.id
    and r.hold_id <> coupon_still_honoured.hold_id
    and (h.status = 'confirmed'
         or (h.status = 'active' and h.expires_at > now())
         or exists (select 1 from public.payment_sessions ps
                    where ps.hold_id = h.id and ps.status in ('pending', 'succeeded')));
  return (v_coupon.max_redemptions is null or v_live_total < v_coupon.max_redemptions)
     and v_live_customer < v_coupon.per_customer_limit;
end;
$$;
comment on function private.coupon_still_honoured(uuid) is
  'Whether the coupon applied to a hold still fits the coupon''s caps if this hold is booked now (other live redemptions only); locks the coupon row. Used by payment_event_record before confirming a paid hold.';
revoke execute on function private.coupon_still_honoured(uuid) from public, anon, authenticated, service_role;
