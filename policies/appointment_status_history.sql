-- Policies of public.appointment_status_history. Tier 1/2 (read-only): the customer and the business's members read; written only by the appointments_after_write trigger.

drop policy if exists appointment_status_history_select_customer on public.appointment_status_history;
create policy appointment_status_history_select_customer on public.appointment_status_history
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy appointment_status_history_select_customer on public.appointment_status_history is
  'A customer reads their own appointment_status_history.';

drop policy if exists appointment_status_history_select_member on public.appointment_status_history;
create policy appointment_status_history_select_member on public.appointment_status_history
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy appointment_status_history_select_member on public.appointment_status_history is
  'Members of a business read its appointment_status_history.';

drop policy if exists appointment_status_history_select_admin on public.appointment_status_history;
create policy appointment_status_history_select_admin on public.appointment_status_history
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy appointment_status_history_select_admin on public.appointment_status_history is
  'Platform admins (platform_admins, never JWT metadata) read every history row for support; they change them only through procedures.';
