-- Policies of public.appointment_addons. Tier 1/2 (read-only): the customer and the business's members read; written only by hold_confirm.

drop policy if exists appointment_addons_select_customer on public.appointment_addons;
create policy appointment_addons_select_customer on public.appointment_addons
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy appointment_addons_select_customer on public.appointment_addons is
  'A customer reads their own appointment_addons.';

drop policy if exists appointment_addons_select_member on public.appointment_addons;
create policy appointment_addons_select_member on public.appointment_addons
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy appointment_addons_select_member on public.appointment_addons is
  'Members of a business read its appointment_addons.';

drop policy if exists appointment_addons_select_admin on public.appointment_addons;
create policy appointment_addons_select_admin on public.appointment_addons
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy appointment_addons_select_admin on public.appointment_addons is
  'Platform admins (platform_admins, never JWT metadata) read every appointment add-on for support; they change them only through procedures.';
