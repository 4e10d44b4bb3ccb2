-- name: NotificationsClaim :many
-- NotificationsClaim claims the due notifications of an appointment for delivery (marks them sending).
select * from public.notifications_claim(appointment_id => sqlc.arg(appointment_id));

-- name: NotificationMark :exec
-- NotificationMark reports a claimed notification as delivered or failed (service_role); failures are retried.
select public.notification_mark(notification_id => sqlc.arg(notification_id), delivered => sqlc.arg(delivered), error => sqlc.narg(error));

-- name: RemindersQueue :one
-- RemindersQueue queues one reminder per confirmed appointment starting in the window (service_role).
select public.reminders_queue(window_start => sqlc.arg(window_start), window_end => sqlc.arg(window_end))::integer as queued;

-- name: NotificationList :many
select * from public.notifications where appointment_id = sqlc.arg(appointment_id) order by created_at, id;
