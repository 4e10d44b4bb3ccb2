-- Coupons: percent or amount off a hold, with a validity window, a total cap
-- and a per-customer cap, and the log of redemptions. A redemption lowers the
-- hold's amount due (holds.discount_cents; amount_due_cents is computed), and
-- confirmation copies the discount to the appointment.
--
-- Caps are counted, not stored: coupon_redeem locks the coupon row
-- (FOR UPDATE) and counts the redemptions that are still live (the hold is
-- active and unexpired, confirmed, or has a payment session under way), so a
-- hold that expires or is released gives its redemption back and no counter
-- can drift.

-- ---------------------------------------------------------------------------
-- coupons
create table public.coupons (
  id                 uuid not null default gen_random_uuid(),
  business_id        uuid not null,
  code               text not null,
  description        text,
  discount_kind      text not null,
  discount_value     integer not null,
  valid_from         timestamptz not null default now(),
  valid_until        timestamptz,
  max_redemptions    integer,
  per_customer_limit integer not null default 1,
  active             boolean not null default true,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now()
);
comment on table public.coupons is
  'A discount code of a business: discount_kind percent (discount_value 1-100, rounded down) or amount (discount_value cents, at most the price), valid in [valid_from, valid_until) (valid_until null = no end), at most max_redemptions live redemptions in total (null = unlimited) and per_customer_limit per customer. code is stored upper-case and unique per business. Not public (codes are typed in, never listed): members with catalog.manage read and write them directly; customers redeem them only through coupon_redeem. Deactivate instead of deleting once redeemed.';
alter table public.coupons enable row level security;
revoke all on table public.coupons from public, anon, authenticated;
grant select on table public.coupons to authenticated;
grant insert (business_id, code, description, discount_kind, discount_value, valid_from, valid_until, max_redemptions, per_customer_limit, active)
  on table public.coupons to authenticated;
grant update (description, discount_kind, discount_value, valid_from, valid_until, max_redemptions, per_customer_limit, active)
  on table public.coupons to authenticated;
grant delete on table public.coupons to authenticated;
grant select, insert, update, delete on table public.coupons to service_role;

alter table public.coupons
  add constraint coupons_pkey primary key (id),
  add constraint coupons_id_business_id_key unique (id, business_id),
  add constraint coupons_business_id_code_key unique (business_id, code),
  add constraint coupons_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint coupons_code_check check (code ~ '^[A-Z0-9][A-Z0-9_-]{2,31}$'),
  add constraint coupons_description_check check (description is null or char_length(description) <= 500),
  add constraint coupons_discount_kind_check check (discount_kind in ('percent', 'amount')),
  add constraint coupons_discount_value_check check (
    (discount_kind = 'percent' and discount_value between 1 and 100)
    or (discount_kind = 'amount' and discount_value between 1 and 10000000)),
  add constraint coupons_validity_check check (valid_until is null or valid_until > valid_from),
  add constraint coupons_max_redemptions_check check (max_redemptions is null or max_redemptions between 1 and 1000000),
  add constraint coupons_per_customer_limit_check check (per_customer_limit between 1 and 1000);
-- coupons_business_id_code_key serves coupon_redeem's lookup and the FK.

-- ---------------------------------------------------------------------------
-- holds and appointments: the discount and the amount due
alter table public.holds
  add column discount_cents integer not null default 0,
  add column amount_due_cents integer not null generated always as (price_cents - discount_cents) stored;
alter table public.holds
  add constraint holds_discount_cents_check check (discount_cents between 0 and price_cents);
comment on column public.holds.discount_cents is
  'Discount from a coupon (coupon_redeem), in cents; 0 without one.';
comment on column public.holds.amount_due_cents is
  'price_cents - discount_cents: what the customer pays (payment_session_record charges this).';

alter table public.appointments
  add column discount_cents integer not null default 0,
  add column amount_due_cents integer not null generated always as (price_cents - discount_cents) stored;
alter table public.appointments
  add constraint appointments_discount_cents_check check (discount_cents between 0 and price_cents);
comment on column public.appointments.discount_cents is
  'Coupon discount copied from the hold at confirmation, in cents.';
comment on column public.appointments.amount_due_cents is
  'price_cents - discount_cents: the booked amount (revenue in business_stats).';

-- ---------------------------------------------------------------------------
-- coupon_redemptions
create table public.coupon_redemptions (
  id                  uuid not null default gen_random_uuid(),
  coupon_id           uuid not null,
  business_id         uuid not null,
  customer_id         uuid not null,
  hold_id             uuid,
  code                text not null,
  discount_cents      integer not null,
  amount_before_cents integer not null,
  idempotency_key     text not null,
  created_at          timestamptz not null default now()
);
comment on table public.coupon_redemptions is
  'The redemption log: one row per coupon applied to a hold (at most one coupon per hold). discount_cents was computed by coupon_redeem from the hold''s price_cents. hold_id becomes null if the hold is deleted; the row survives. Readable by its customer, members with catalog.manage or billing.view, platform admins; written only by coupon_redeem.';
alter table public.coupon_redemptions enable row level security;
revoke all on table public.coupon_redemptions from public, anon, authenticated;
grant select on table public.coupon_redemptions to authenticated;
-- service_role reads; it writes only through the procedures (money, credits and coupons have one write path).
grant select on table public.coupon_redemptions to service_role;

alter table public.coupon_redemptions
  add constraint coupon_redemptions_pkey primary key (id),
  -- One coupon per hold.
  add constraint coupon_redemptions_hold_id_key unique (hold_id),
  add constraint coupon_redemptions_customer_id_idempotency_key_key unique (customer_id, idempotency_key),
  add constraint coupon_redemptions_coupon_id_business_id_fkey foreign key (coupon_id, business_id)
    references public.coupons (id, business_id) on delete restrict,
  add constraint coupon_redemptions_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete cascade,
  add constraint coupon_redemptions_hold_id_fkey foreign key (hold_id, business_id, customer_id)
    references public.holds (id, business_id, customer_id) on delete set null (hold_id),
  add constraint coupon_redemptions_discount_cents_check check (discount_cents between 0 and amount_before_cents),
  add constraint coupon_redemptions_amount_before_cents_check check (amount_before_cents between 0 and 10000000),
  add constraint coupon_redemptions_idempotency_key_check check (char_length(btrim(idempotency_key)) between 1 and 200);
-- Caps: live redemptions of a coupon, and of a coupon by a customer.
create index coupon_redemptions_coupon_id_customer_id_idx on public.coupon_redemptions (coupon_id, customer_id);
create index coupon_redemptions_business_id_idx on public.coupon_redemptions (business_id, created_at);
