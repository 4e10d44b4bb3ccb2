-- name: CreditsGrant :many
-- CreditsGrant grants (or, negative, corrects) a customer's credits at a business (credits.manage or service_role); idempotent on idempotency_key.
select * from public.credits_grant(
  business_id => sqlc.arg(business_id),
  customer_id => sqlc.arg(customer_id),
  amount => sqlc.arg(amount),
  reason => sqlc.arg(reason),
  idempotency_key => sqlc.arg(idempotency_key));

-- name: CreditsRedeem :many
-- CreditsRedeem spends the caller's credits on their confirmed appointment; never below zero; idempotent on idempotency_key.
select * from public.credits_redeem(
  appointment_id => sqlc.arg(appointment_id),
  amount => sqlc.arg(amount),
  idempotency_key => sqlc.arg(idempotency_key));

-- name: CreditBalanceGet :one
-- CreditBalanceGet reads a customer's balance at a business as the caller may see it.
select * from public.credit_balances where business_id = sqlc.arg(business_id) and customer_id = sqlc.arg(customer_id);

-- name: CreditBalanceList :many
select * from public.credit_balances order by business_id, customer_id;

-- name: CreditLedgerList :many
-- CreditLedgerList lists the ledger entries of a customer at a business, oldest first.
select * from public.credit_ledger
where business_id = sqlc.arg(business_id) and customer_id = sqlc.arg(customer_id)
order by id;
