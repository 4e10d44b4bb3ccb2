-- name: ServiceCreate :one
-- ServiceCreate adds a service (staff with catalog.manage, under RLS).
insert into public.services (business_id, name, duration_minutes)
values (sqlc.arg(business_id), sqlc.arg(name), sqlc.arg(duration_minutes))
returning *;

-- name: ServiceList :many
select * from public.services where business_id = sqlc.arg(business_id) order by name;

-- name: ServicePriceSet :one
-- ServicePriceSet sets a service's price for a vehicle type (staff with
-- catalog.manage, under RLS); business_id is the service's own.
insert into public.service_prices (service_id, business_id, vehicle_type, price_cents)
select s.id, s.business_id, sqlc.arg(vehicle_type), sqlc.arg(price_cents)
from public.services s where s.id = sqlc.arg(service_id)
on conflict (service_id, vehicle_type) do update set price_cents = excluded.price_cents
returning *;

-- name: AddonCreate :one
insert into public.addons (business_id, name, price_cents, duration_minutes)
values (sqlc.arg(business_id), sqlc.arg(name), sqlc.arg(price_cents), sqlc.arg(duration_minutes))
returning *;

-- name: WorkingHoursSet :one
insert into public.working_hours (business_id, weekday, opens, closes)
values (sqlc.arg(business_id), sqlc.arg(weekday), sqlc.arg(opens), sqlc.arg(closes))
returning *;

-- name: CrewCreate :one
insert into public.crews (business_id, name) values (sqlc.arg(business_id), sqlc.arg(name)) returning *;

-- name: CrewList :many
select * from public.crews where business_id = sqlc.arg(business_id) order by name;

-- name: BlackoutCreate :one
insert into public.blackouts (business_id, crew_id, during, reason)
values (sqlc.arg(business_id), sqlc.narg(crew_id), sqlc.arg(during), sqlc.narg(reason))
returning *;
