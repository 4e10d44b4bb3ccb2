create or replace function public.membership_activate(customer_id uuid, plan_id uuid, period_start date)
returns setof public.memberships
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_plan public.membership_plans%rowtype;
  v_membership public.memberships%rowtype;
  v_key text;
begin
  -- Billing only: EXECUTE is granted to service_role alone.
  if membership_activate.customer_id is null or membership_activate.plan_id is null or membership_activate.period_start is null then
    raise exception using errcode = '22023', message = 'customer_id, plan_id and period_start are required',
      constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if membership_activate.period_start not between current_date - 366 and current_date + 366 then
    raise exception using errcode = '22023', message = 'period_start must be within a year of today',
      constraint = 'membership_period_invalid', hint = 'Pass the first day of the billed period.';
  end if;
  select p.* into v_plan from public.membership_plans p where p.id = membership_activate.plan_id;
  if not found then
    raise exception using errcode = 'P0002', message = 'membership plan not found',
      constraint = 'membership_plan_not_found', hint = 'Check the plan id.';
  end if;
  if not exists (select 1 from auth.users u where u.id = membership_activate.customer_id) then
    raise exception using errcode = 'P0002', message = 'customer not found',
      constraint = 'customer_not_found', hint = 'Check the customer id.';
  end if;

  -- The customer's balance row at this business serialises activations,
  -- renewals and credit movements of (business, customer).
  insert into public.credit_balances (business_id, customer_id, balance)
  values (v_plan.business_id, membership_activate.customer_id, 0)
  on conflict on constraint credit_balances_pkey do nothing;
  perform 1 from public.credit_balances cb
  where cb.business_id = v_plan.business_id and cb.customer_id = membership_activate.customer_id
  for update;

  select m.* into v_membership
  from public.memberships m
  where m.business_id = v_plan.business_id and m.customer_id = membership_activate.customer_id and m.status = 'active'
  for update;
  if found then
    if v_membership.plan_id <> v_plan.id and not v_plan.active then
      raise exception using errcode = 'P0001', message = 'this plan is no longer offered',
        constraint = 'membership_plan_inactive', hint = 'Move the customer to an active plan.';
    end if;
    -- Renewal (or a plan change): the period only moves forward. A replay
    -- (same plan, no later period) changes nothing, not even updated_at.
    if v_membership.plan_id <> v_plan.id or membership_activate.period_start > v_membership.current_period_start then
      update public.memberships m
      set plan_id = v_plan.id,
          current_period_start = greatest(m.current_period_start, membership_activate.period_start),
          current_period_end = (greatest(m.current_period_start, membership_activate.period_start) + interval '1 month')::date
      where m.id = v_membership.id
      returning * into v_membership;
    end if;
  else
    if not v_plan.active then
      raise exception using errcode = 'P0001', message = 'this plan is no longer offered',
        constraint = 'membership_plan_inactive', hint = 'Choose an active plan.';
    end if;
    insert into public.memberships (business_id, customer_id, plan_id, current_period_start, current_period_end)
    values (v_plan.business_id, membership_activate.customer_id, v_plan.id, membership_activate.period_start,
            (membership_activate.period_start + interval '1 month')::date)
    returning * into v_membership;
  end if;

  -- The period's credits, once per (business, customer, period), whichever
  -- membership row or plan the period is activated with.
  v_key := 'period:' || to_char(membership_activate.period_start, 'YYYY-MM-DD');
  if not exists (
    select 1 from public.credit_ledger l
    where l.business_id = v_plan.business_id and l.customer_id = membership_activate.customer_id
      and l.kind = 'membership' and l.idempotency_key = v_key
  ) then
    insert into public.credit_ledger (business_id, customer_id, kind, delta, reason, idempotency_key, membership_id)
    values (v_plan.business_id, membership_activate.customer_id, 'membership', v_plan.monthly_credits,
            left(format('membership %s, period from %s', v_plan.name, membership_activate.period_start), 200),
            v_key, v_membership.id);
  end if;

  return next v_membership;
end
$$;
comment on function public.membership_activate(uuid, uuid, date) is
  'Billing (service_role only): activates customer_id''s membership on plan_id for the month starting period_start, or renews / changes the plan of their active membership at that business (one active membership per customer per business), and grants the plan''s monthly_credits once per (business, customer, period) (credit_ledger kind membership, key period:YYYY-MM-DD). Replays change nothing and return the membership. Errors: 22023 argument_required / membership_period_invalid, P0002 membership_plan_not_found / customer_not_found, P0001 membership_plan_inactive.';
revoke execute on function public.membership_activate(uuid, uuid, date) from public, anon, authenticated, service_role;
grant execute on function public.membership_activate(uuid, uuid, date) to service_role;
