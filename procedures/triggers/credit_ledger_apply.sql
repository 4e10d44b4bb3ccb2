-- The credit balance follows the ledger on every write path, manual SQL
-- included: each new entry locks its (business, customer) balance row, gets
-- balance_after from it and moves it, in the inserting statement.
create or replace function private.credit_ledger_apply()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_balance integer;
begin
  insert into public.credit_balances (business_id, customer_id, balance)
  values (new.business_id, new.customer_id, 0)
  on conflict on constraint credit_balances_pkey do nothing;

  select cb.balance into v_balance
  from public.credit_balances cb
  where cb.business_id = new.business_id and cb.customer_id = new.customer_id
  for update;

  if v_balance + new.delta < 0 then
    raise exception using errcode = 'P0001', message = format('the balance is %s credits', v_balance),
      detail = 'insufficient_credits', constraint = 'insufficient_credits', hint = 'A balance never goes below zero.';
  end if;
  new.balance_after := v_balance + new.delta;
  update public.credit_balances cb
  set balance = new.balance_after, updated_at = now()
  where cb.business_id = new.business_id and cb.customer_id = new.customer_id;
  return new;
end
$$;
comment on function private.credit_ledger_apply() is
  'BEFORE INSERT trigger on credit_ledger: locks the credit_balances row of (business_id, customer_id) FOR UPDATE (creating it at 0), sets balance_after = balance + delta and stores it as the new balance; refuses an entry that would take it below zero (P0001 insufficient_credits; credit_ledger_balance_after_check and credit_balances_balance_check are the backstops), on every write path.';
revoke execute on function private.credit_ledger_apply() from public, anon, authenticated, service_role;

drop trigger if exists credit_ledger_apply on public.credit_ledger;
create trigger credit_ledger_apply
  before insert on public.credit_ledger
  for each row execute function private.credit_ledger_apply();
