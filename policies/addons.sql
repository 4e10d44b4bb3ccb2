-- Policies of public.addons. Tier 3 (public catalogue): anyone reads active add-ons; members with catalog.manage write them.

drop policy if exists addons_select_public on public.addons;
create policy addons_select_public on public.addons
  for select to anon, authenticated
  using (active);
comment on policy addons_select_public on public.addons is
  'Anyone, signed in or not, reads active add-ons.';

drop policy if exists addons_select_member on public.addons;
create policy addons_select_member on public.addons
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy addons_select_member on public.addons is
  'Members of a business read all its addons, inactive ones included.';

drop policy if exists addons_select_admin on public.addons;
create policy addons_select_admin on public.addons
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy addons_select_admin on public.addons is
  'Platform admins (platform_admins, never JWT metadata) read every add-on for support; they change them only through procedures.';

drop policy if exists addons_insert_catalog_manager on public.addons;
create policy addons_insert_catalog_manager on public.addons
  for insert to authenticated
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy addons_insert_catalog_manager on public.addons is
  'Members with catalog.manage add addons to their business.';

drop policy if exists addons_update_catalog_manager on public.addons;
create policy addons_update_catalog_manager on public.addons
  for update to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))))
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy addons_update_catalog_manager on public.addons is
  'Members with catalog.manage edit the addons of their business (and cannot move them to another business).';

drop policy if exists addons_delete_catalog_manager on public.addons;
create policy addons_delete_catalog_manager on public.addons
  for delete to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy addons_delete_catalog_manager on public.addons is
  'Members with catalog.manage delete the addons of their business.';
