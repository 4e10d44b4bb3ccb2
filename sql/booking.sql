-- name: AvailabilityGet :many
-- AvailabilityGet lists the free slots of a service on a day (business time zone).
select (a).slot_start::timestamptz as slot_start, (a).slot_end::timestamptz as slot_end, (a).free_crews::integer as free_crews
from public.availability_get(business_id => sqlc.arg(business_id), service_id => sqlc.arg(service_id), day => sqlc.arg(day), addon_ids => sqlc.narg(addon_ids)) a;

-- name: HoldCreate :many
-- HoldCreate reserves a slot for the caller for the business's hold minutes.
select * from public.hold_create(
  business_id => sqlc.arg(business_id),
  service_id => sqlc.arg(service_id),
  slot_start => sqlc.arg(slot_start),
  vehicle_id => sqlc.arg(vehicle_id),
  address_id => sqlc.arg(address_id),
  addon_ids => sqlc.narg(addon_ids));

-- name: HoldRelease :exec
select public.hold_release(hold_id => sqlc.arg(hold_id));

-- name: HoldConfirm :many
-- HoldConfirm turns the caller's hold into an appointment (businesses without payment).
select * from public.hold_confirm(hold_id => sqlc.arg(hold_id));

-- name: HoldsExpire :one
select public.holds_expire()::integer as expired;

-- name: HoldList :many
select * from public.holds order by created_at, id;

-- name: AppointmentReschedule :many
select * from public.appointment_reschedule(appointment_id => sqlc.arg(appointment_id), new_start => sqlc.arg(new_start));

-- name: AppointmentCancel :many
select * from public.appointment_cancel(appointment_id => sqlc.arg(appointment_id), reason => sqlc.narg(reason));

-- name: AppointmentSetStatus :many
select * from public.appointment_set_status(appointment_id => sqlc.arg(appointment_id), status => sqlc.arg(status), note => sqlc.narg(note));

-- name: AppointmentList :many
select * from public.appointments order by slot, id;

-- name: AppointmentGet :one
select * from public.appointments where id = sqlc.arg(id);

-- name: AppointmentStatusHistoryList :many
select * from public.appointment_status_history where appointment_id = sqlc.arg(appointment_id) order by id;

-- name: AppointmentMessagePost :many
select * from public.appointment_message_post(appointment_id => sqlc.arg(appointment_id), body => sqlc.arg(body));

-- name: AppointmentMessageList :many
select * from public.appointment_messages where appointment_id = sqlc.arg(appointment_id) order by created_at, id;
