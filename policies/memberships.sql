-- Policies of public.memberships. Tier 1/2 (read-only): the customer and the business's members read; written only by membership_activate and membership_cancel.

drop policy if exists memberships_select_customer on public.memberships;
create policy memberships_select_customer on public.memberships
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy memberships_select_customer on public.memberships is
  'A customer reads their own memberships.';

drop policy if exists memberships_select_member on public.memberships;
create policy memberships_select_member on public.memberships
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy memberships_select_member on public.memberships is
  'Members of a business read its memberships (who is a member, on which plan).';

drop policy if exists memberships_select_admin on public.memberships;
create policy memberships_select_admin on public.memberships
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy memberships_select_admin on public.memberships is
  'Platform admins (platform_admins, never JWT metadata) read every membership for support; they change them only through procedures.';
