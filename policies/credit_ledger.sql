-- Policies of public.credit_ledger. Tier 1/2 (read-only): the customer and the business's members read; append-only, written only by credits_grant, credits_redeem and membership_activate.

drop policy if exists credit_ledger_select_customer on public.credit_ledger;
create policy credit_ledger_select_customer on public.credit_ledger
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy credit_ledger_select_customer on public.credit_ledger is
  'A customer reads their own credit ledger entries.';

drop policy if exists credit_ledger_select_member on public.credit_ledger;
create policy credit_ledger_select_member on public.credit_ledger
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy credit_ledger_select_member on public.credit_ledger is
  'Members of a business read the credit ledger entries of its customers.';

drop policy if exists credit_ledger_select_admin on public.credit_ledger;
create policy credit_ledger_select_admin on public.credit_ledger
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy credit_ledger_select_admin on public.credit_ledger is
  'Platform admins (platform_admins, never JWT metadata) read every credit ledger entries row for support; they change nothing.';
