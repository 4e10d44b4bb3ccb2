-- name: MembershipActivate :many
-- MembershipActivate activates or renews a customer's membership for a period and grants its credits once (service_role, billing).
select * from public.membership_activate(
  customer_id => sqlc.arg(customer_id),
  plan_id => sqlc.arg(plan_id),
  period_start => sqlc.arg(period_start));

-- name: MembershipCancel :many
-- MembershipCancel cancels an active membership (its customer or an owner of the business).
select * from public.membership_cancel(membership_id => sqlc.arg(membership_id));

-- name: MembershipList :many
select * from public.memberships order by created_at, id;

-- name: MembershipPlanCreate :one
-- MembershipPlanCreate adds a plan (staff with catalog.manage, under RLS).
insert into public.membership_plans (business_id, name, monthly_credits, price_cents)
values (sqlc.arg(business_id), sqlc.arg(name), sqlc.arg(monthly_credits), sqlc.arg(price_cents))
returning *;

-- name: MembershipPlanList :many
select * from public.membership_plans where business_id = sqlc.arg(business_id) order by name;
