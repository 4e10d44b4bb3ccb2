-- Policies of public.holds. Tier 1/2 (read-only): the customer and the business's members read; written only by hold_create, hold_release, hold_confirm and holds_expire.

drop policy if exists holds_select_customer on public.holds;
create policy holds_select_customer on public.holds
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy holds_select_customer on public.holds is
  'A customer reads their own holds.';

drop policy if exists holds_select_member on public.holds;
create policy holds_select_member on public.holds
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy holds_select_member on public.holds is
  'Members of a business read its holds.';

drop policy if exists holds_select_admin on public.holds;
create policy holds_select_admin on public.holds
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy holds_select_admin on public.holds is
  'Platform admins (platform_admins, never JWT metadata) read every hold for support; they change them only through procedures.';
