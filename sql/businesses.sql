-- name: BusinessCreate :many
-- BusinessCreate creates a business; the caller becomes its owner.
select * from public.business_create(name => sqlc.arg(name), slug => sqlc.arg(slug), timezone => sqlc.arg(timezone));

-- name: BusinessUpdate :many
-- BusinessUpdate changes a business's settings (owner only); NULL keeps a value.
select * from public.business_update(
  business_id => sqlc.arg(business_id),
  name => sqlc.narg(name),
  timezone => sqlc.narg(timezone),
  payment_required => sqlc.narg(payment_required),
  staff_email_domain => sqlc.narg(staff_email_domain));

-- name: BusinessGet :one
-- BusinessGet reads one business as the caller may see it.
select * from public.businesses where id = sqlc.arg(id);

-- name: BusinessList :many
-- BusinessList lists the businesses the caller may see.
select * from public.businesses order by name;

-- name: BusinessSettingSet :many
-- BusinessSettingSet sets a typed, range-checked setting (owner only).
select * from public.business_setting_set(business_id => sqlc.arg(business_id), key => sqlc.arg(key), value => sqlc.narg(value));

-- name: BusinessSettingList :many
select * from public.business_settings where business_id = sqlc.arg(business_id) order by key;
