-- name: PaymentSessionRecord :many
-- PaymentSessionRecord records the provider checkout session of a hold; the amount comes from the hold (service_role).
select * from public.payment_session_record(
  hold_id => sqlc.arg(hold_id),
  provider_session_id => sqlc.arg(provider_session_id));

-- name: PaymentEventRecord :many
-- PaymentEventRecord stores a provider webhook event once and acts on it (service_role); see the returned outcome.
select * from public.payment_event_record(
  provider_event_id => sqlc.arg(provider_event_id),
  provider_session_id => sqlc.arg(provider_session_id),
  status => sqlc.arg(status),
  amount_cents => sqlc.arg(amount_cents));

-- name: PaymentSessionGet :one
select * from public.payment_sessions where id = sqlc.arg(id);

-- name: PaymentSessionList :many
select * from public.payment_sessions order by created_at, id;

-- name: PaymentSessionRefundList :many
-- PaymentSessionRefundList lists the sessions that need a refund or a review (service_role).
select * from public.payment_sessions where status in ('refund_required', 'amount_mismatch') order by created_at, id;

-- name: PaymentEventList :many
select * from public.payment_events where payment_session_id = sqlc.arg(payment_session_id) order by created_at, id;
