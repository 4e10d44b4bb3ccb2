-- Policies of public.credit_balances. Tier 1/2 (read-only): the customer and the business's members read; written only by the credit_ledger_apply trigger.

drop policy if exists credit_balances_select_customer on public.credit_balances;
create policy credit_balances_select_customer on public.credit_balances
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy credit_balances_select_customer on public.credit_balances is
  'A customer reads their own credit balances.';

drop policy if exists credit_balances_select_member on public.credit_balances;
create policy credit_balances_select_member on public.credit_balances
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy credit_balances_select_member on public.credit_balances is
  'Members of a business read the credit balances of its customers.';

drop policy if exists credit_balances_select_admin on public.credit_balances;
create policy credit_balances_select_admin on public.credit_balances
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy credit_balances_select_admin on public.credit_balances is
  'Platform admins (platform_admins, never JWT metadata) read every credit balances row for support; they change nothing.';
