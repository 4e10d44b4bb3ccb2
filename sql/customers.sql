-- name: ProfileCreate :one
-- ProfileCreate creates the caller's profile (id defaults to auth.uid()).
insert into public.profiles (display_name, phone) values (sqlc.narg(display_name), sqlc.narg(phone)) returning *;

-- name: ProfileGet :one
select * from public.profiles where id = sqlc.arg(id);

-- name: ProfileUpdate :many
-- ProfileUpdate changes the caller's own non-privileged profile columns.
update public.profiles set display_name = sqlc.narg(display_name), phone = sqlc.narg(phone) where id = sqlc.arg(id) returning *;

-- name: VehicleCreate :one
-- VehicleCreate adds a vehicle for the caller (user_id defaults to auth.uid()).
insert into public.vehicles (vehicle_type, make, model, plate)
values (sqlc.arg(vehicle_type), sqlc.arg(make), sqlc.arg(model), sqlc.arg(plate))
returning *;

-- name: VehicleList :many
select * from public.vehicles order by created_at, id;

-- name: AddressCreate :one
-- AddressCreate adds an address for the caller (user_id defaults to auth.uid()).
insert into public.addresses (line1, city, postal_code, is_default)
values (sqlc.arg(line1), sqlc.arg(city), sqlc.arg(postal_code), sqlc.arg(is_default))
returning *;

-- name: AddressList :many
select * from public.addresses order by created_at, id;
