-- Policies of public.business_members. Tier 2 (business staff): members see who else works for their business; writes only through procedures.

drop policy if exists business_members_select_member on public.business_members;
create policy business_members_select_member on public.business_members
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy business_members_select_member on public.business_members is
  'Members of a business see all memberships of that business.';

drop policy if exists business_members_select_admin on public.business_members;
create policy business_members_select_admin on public.business_members
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy business_members_select_admin on public.business_members is
  'Platform admins (platform_admins, never JWT metadata) read every membership for support; they change them only through procedures.';
