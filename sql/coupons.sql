-- name: CouponRedeem :many
-- CouponRedeem applies a coupon code to the caller's active hold, lowering its amount due; idempotent on idempotency_key.
select * from public.coupon_redeem(
  code => sqlc.arg(code),
  hold_id => sqlc.arg(hold_id),
  idempotency_key => sqlc.arg(idempotency_key));

-- name: CouponCreate :one
-- CouponCreate adds a coupon (staff with catalog.manage, under RLS); discount_kind is percent or amount.
insert into public.coupons (business_id, code, discount_kind, discount_value, valid_until, max_redemptions, per_customer_limit)
values (sqlc.arg(business_id), sqlc.arg(code), sqlc.arg(discount_kind), sqlc.arg(discount_value),
        sqlc.narg(valid_until), sqlc.narg(max_redemptions), sqlc.arg(per_customer_limit))
returning *;

-- name: CouponList :many
select * from public.coupons where business_id = sqlc.arg(business_id) order by code;

-- name: CouponRedemptionList :many
select * from public.coupon_redemptions order by created_at, id;
