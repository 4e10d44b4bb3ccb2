-- Policies of public.hold_addons. Tier 1/2 (read-only): the customer and the business's members read; written only by hold_create.

drop policy if exists hold_addons_select_customer on public.hold_addons;
create policy hold_addons_select_customer on public.hold_addons
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy hold_addons_select_customer on public.hold_addons is
  'A customer reads their own hold_addons.';

drop policy if exists hold_addons_select_member on public.hold_addons;
create policy hold_addons_select_member on public.hold_addons
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy hold_addons_select_member on public.hold_addons is
  'Members of a business read its hold_addons.';

drop policy if exists hold_addons_select_admin on public.hold_addons;
create policy hold_addons_select_admin on public.hold_addons
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy hold_addons_select_admin on public.hold_addons is
  'Platform admins (platform_admins, never JWT metadata) read every hold add-on for support; they change them only through procedures.';
