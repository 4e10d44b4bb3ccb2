-- name: AdminNoteAdd :many
-- AdminNoteAdd adds an internal note about a customer of the business (notes.manage).
select * from public.admin_note_add(business_id => sqlc.arg(business_id), customer_id => sqlc.arg(customer_id), body => sqlc.arg(body));

-- name: AdminNoteList :many
select * from public.admin_notes
where business_id = sqlc.arg(business_id) and customer_id = sqlc.arg(customer_id)
order by created_at, id;

-- name: SettingsSet :many
-- SettingsSet sets a typed, range-checked business setting (owner only); the documented name of BusinessSettingSet.
select * from public.settings_set(business_id => sqlc.arg(business_id), key => sqlc.arg(key), value => sqlc.narg(value));

-- name: BusinessStats :many
-- BusinessStats lists bookings, revenue and cancellations per local day (billing.view), from the last refresh.
select (s).day::date as day, (s).bookings::integer as bookings, (s).revenue_cents::bigint as revenue_cents,
       (s).cancellations::integer as cancellations
from public.business_stats(business_id => sqlc.arg(business_id), from_day => sqlc.arg(from_day), to_day => sqlc.arg(to_day)) s;

-- name: BusinessStatsRefresh :exec
-- BusinessStatsRefresh recomputes the statistics behind BusinessStats (service_role).
select public.business_stats_refresh();

-- name: AuditPartitionsEnsure :one
-- AuditPartitionsEnsure creates the monthly audit_log partitions ahead (service_role).
select public.audit_partitions_ensure(months_ahead => sqlc.arg(months_ahead))::integer as created;

-- name: AuditLogList :many
select * from public.audit_log
where table_name = sqlc.arg(table_name) and created_at >= sqlc.arg(since)
order by created_at, id;
