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
  v_last_start date;
  v_last_end date;
  v_new_period boolean;
begin
  -- Billing only: EXECUTE is granted to service_role alone.
  if membership_activate.customer_id is null or membership_activate.plan_id is null or membership_activate.period_start is null then
    raise exception using errcode = '22023', message = 'customer_id, plan_id and period_start are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if membership_activate.period_start not between current_date - 366 and current_date + 366 then
    raise exception using errcode = '22023', message = 'period_start must be within a year of today',
      detail = 'membership_period_invalid', constraint = 'membership_period_invalid', hint = 'Pass the first day of the billed period.';
  end if;
  select p.* into v_plan from public.membership_plans p where p.id = membership_activate.plan_id;
  if not found then
    raise exception using errcode = 'PT404', message = 'membership plan not found',
      detail = 'membership_plan_not_found', constraint = 'membership_plan_not_found', hint = 'Check the plan id.';
  end if;
  if not exists (select 1 from auth.users u where u.id = membership_activate.customer_id) then
    raise exception using errcode = 'PT404', message = 'customer not found',
      detail = 'customer_not_found', constraint = 'customer_not_found', hint = 'Check the customer id.';
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
  -- The credits of a period are granted once, whatever dates billing sends:
  -- a period is a month, and a new one starts only when the last period of
  -- this customer at this business (of any membership row, cancelled ones
  -- included) has ended. An activation dated inside a period already
  -- granted (a shifted start, a cancel and re-activate) joins that period.
  select m.current_period_start, m.current_period_end into v_last_start, v_last_end
  from public.memberships m
  where m.business_id = v_plan.business_id and m.customer_id = membership_activate.customer_id
  order by m.current_period_end desc
  limit 1;
  v_new_period := v_last_end is null or membership_activate.period_start >= v_last_end;
  if v_membership.id is not null then
    if v_membership.plan_id <> v_plan.id and not v_plan.active then
      raise exception using errcode = 'P0001', message = 'this plan is no longer offered',
        detail = 'membership_plan_inactive', constraint = 'membership_plan_inactive', hint = 'Move the customer to an active plan.';
    end if;
    -- Renewal (a new period) and plan changes. A replay, or a date inside
    -- the current period, changes nothing, not even updated_at.
    if v_new_period or v_membership.plan_id <> v_plan.id then
      update public.memberships m
      set plan_id = v_plan.id,
          current_period_start = case when v_new_period then membership_activate.period_start else m.current_period_start end,
          current_period_end = case when v_new_period then (membership_activate.period_start + interval '1 month')::date else m.current_period_end end
      where m.id = v_membership.id
      returning * into v_membership;
    end if;
  else
    if not v_plan.active then
      raise exception using errcode = 'P0001', message = 'this plan is no longer offered',
        detail = 'membership_plan_inactive', constraint = 'membership_plan_inactive', hint = 'Choose an active plan.';
    end if;
    insert into public.memberships (business_id, customer_id, plan_id, current_period_start, current_period_end)
    values (v_plan.business_id, membership_activate.customer_id, v_plan.id,
            case when v_new_period then membership_activate.period_start else v_last_start end,
            case when v_new_period then (membership_activate.period_start + interval '1 month')::date else v_last_end end)
    returning * into v_membership;
  end if;

  if v_new_period then
    v_key := 'period:' || to_char(membership_activate.period_start, 'YYYY-MM-DD');
    if not exists (
      select 1 from public.credit_ledger l
      where l.business_id = v_plan.business_id and l.customer_id = membership_activate.customer_id
        and l.kind = 'membership' and l.idempotency_key = v_key
    ) then
      insert into public.credit_ledger (business_id, customer_id, kind, delta, reason, idempotency_key, membership_id, created_by_role)
      values (v_plan.business_id, membership_activate.customer_id, 'membership', v_plan.monthly_credits,
              left(format('membership %s, period from %s', v_plan.name, membership_activate.period_start), 200),
              v_key, v_membership.id, 'system');
    end if;
  end if;

  return next v_membership;
end
$$;
comment on function public.membership_activate(uuid, uuid, date) is
  'Billing (service_role only): activates customer_id''s membership on plan_id for the month starting period_start, or renews / changes the plan of their active membership at that business (one active membership per customer per business), and grants the plan''s monthly_credits once per period (credit_ledger kind membership, key period:YYYY-MM-DD). A period is a month; a new one starts only at or after the end of the customer''s last period at the business (cancelled memberships included): an activation dated inside it (a shifted start, a plan change, a cancel and re-activate) joins that period and grants nothing. Replays change nothing and return the membership. Errors: 22023 argument_required / membership_period_invalid, PT404 membership_plan_not_found / customer_not_found, P0001 membership_plan_inactive.';
revoke execute on function public.membership_activate(uuid, uuid, date) from public, anon, authenticated, service_role;
grant execute on function public.membership_activate(uuid, uuid, date) to service_role;
