-- Policies of public.payment_sessions. Tier 1/2 (read-only): the customer and members with billing.view read; written only by payment_session_record and payment_event_record.

drop policy if exists payment_sessions_select_customer on public.payment_sessions;
create policy payment_sessions_select_customer on public.payment_sessions
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy payment_sessions_select_customer on public.payment_sessions is
  'A customer reads their own payment sessions (amount, status).';

drop policy if exists payment_sessions_select_billing on public.payment_sessions;
create policy payment_sessions_select_billing on public.payment_sessions
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids_with('billing.view'))));
comment on policy payment_sessions_select_billing on public.payment_sessions is
  'Members with billing.view read the payment sessions of their business.';

drop policy if exists payment_sessions_select_admin on public.payment_sessions;
create policy payment_sessions_select_admin on public.payment_sessions
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy payment_sessions_select_admin on public.payment_sessions is
  'Platform admins (platform_admins, never JWT metadata) read every payment session for support; they change nothing.';
