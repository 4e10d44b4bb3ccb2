-- Policies of public.coupons. Tier 2 (business staff): members with catalog.manage read and write their business's coupons; customers never list them (they redeem by code through coupon_redeem).

drop policy if exists coupons_select_catalog_manager on public.coupons;
create policy coupons_select_catalog_manager on public.coupons
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy coupons_select_catalog_manager on public.coupons is
  'Members with catalog.manage read the coupons of their business.';

drop policy if exists coupons_select_admin on public.coupons;
create policy coupons_select_admin on public.coupons
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy coupons_select_admin on public.coupons is
  'Platform admins (platform_admins, never JWT metadata) read every coupon for support; they change them only through procedures.';

drop policy if exists coupons_insert_catalog_manager on public.coupons;
create policy coupons_insert_catalog_manager on public.coupons
  for insert to authenticated
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy coupons_insert_catalog_manager on public.coupons is
  'Members with catalog.manage add coupons to their business.';

drop policy if exists coupons_update_catalog_manager on public.coupons;
create policy coupons_update_catalog_manager on public.coupons
  for update to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))))
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy coupons_update_catalog_manager on public.coupons is
  'Members with catalog.manage edit the coupons of their business (column grants keep code and business fixed).';

drop policy if exists coupons_delete_catalog_manager on public.coupons;
create policy coupons_delete_catalog_manager on public.coupons
  for delete to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy coupons_delete_catalog_manager on public.coupons is
  'Members with catalog.manage delete the coupons of their business; a redeemed coupon cannot be deleted (foreign key, 23503): deactivate it.';
