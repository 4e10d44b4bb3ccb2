-- Policies of public.payment_events. Tier 2/4 (system rows, read-only): members with billing.view read their business's webhook events; written only by payment_event_record.

drop policy if exists payment_events_select_billing on public.payment_events;
create policy payment_events_select_billing on public.payment_events
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids_with('billing.view'))));
comment on policy payment_events_select_billing on public.payment_events is
  'Members with billing.view read the payment events of their business.';

drop policy if exists payment_events_select_admin on public.payment_events;
create policy payment_events_select_admin on public.payment_events
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy payment_events_select_admin on public.payment_events is
  'Platform admins (platform_admins, never JWT metadata) read every payment event for support; they change nothing.';
