-- Policies of public.appointments. Tier 1/2 (read-only): the customer and the business's members read; written only by the booking procedures.

drop policy if exists appointments_select_customer on public.appointments;
create policy appointments_select_customer on public.appointments
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy appointments_select_customer on public.appointments is
  'A customer reads their own appointments.';

drop policy if exists appointments_select_member on public.appointments;
create policy appointments_select_member on public.appointments
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy appointments_select_member on public.appointments is
  'Members of a business read its appointments.';

drop policy if exists appointments_select_admin on public.appointments;
create policy appointments_select_admin on public.appointments
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy appointments_select_admin on public.appointments is
  'Platform admins (platform_admins, never JWT metadata) read every appointment for support; they change them only through procedures.';
