-- Policies of public.membership_plans. Tier 3 (public catalogue): anyone reads active plans; members with catalog.manage write them.

drop policy if exists membership_plans_select_public on public.membership_plans;
create policy membership_plans_select_public on public.membership_plans
  for select to anon, authenticated
  using (active);
comment on policy membership_plans_select_public on public.membership_plans is
  'Anyone, signed in or not, reads active membership plans.';

drop policy if exists membership_plans_select_member on public.membership_plans;
create policy membership_plans_select_member on public.membership_plans
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy membership_plans_select_member on public.membership_plans is
  'Members of a business read all its membership plans, inactive ones included.';

drop policy if exists membership_plans_select_admin on public.membership_plans;
create policy membership_plans_select_admin on public.membership_plans
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy membership_plans_select_admin on public.membership_plans is
  'Platform admins (platform_admins, never JWT metadata) read every membership plan for support; they change them only through procedures.';

drop policy if exists membership_plans_insert_catalog_manager on public.membership_plans;
create policy membership_plans_insert_catalog_manager on public.membership_plans
  for insert to authenticated
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy membership_plans_insert_catalog_manager on public.membership_plans is
  'Members with catalog.manage add membership plans to their business.';

drop policy if exists membership_plans_update_catalog_manager on public.membership_plans;
create policy membership_plans_update_catalog_manager on public.membership_plans
  for update to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))))
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy membership_plans_update_catalog_manager on public.membership_plans is
  'Members with catalog.manage edit the membership plans of their business (and cannot move them to another business).';

drop policy if exists membership_plans_delete_catalog_manager on public.membership_plans;
create policy membership_plans_delete_catalog_manager on public.membership_plans
  for delete to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy membership_plans_delete_catalog_manager on public.membership_plans is
  'Members with catalog.manage delete the membership plans of their business; one a membership references cannot be deleted (foreign key, 23503).';
