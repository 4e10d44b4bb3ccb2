-- Policies of public.service_prices. Tier 3 (public catalogue): anyone reads the prices of active services, members every price of their business; members with catalog.manage write them.

drop policy if exists service_prices_select_public on public.service_prices;
create policy service_prices_select_public on public.service_prices
  for select to anon, authenticated
  using (exists (select 1 from public.services s where s.id = service_prices.service_id and s.active));
comment on policy service_prices_select_public on public.service_prices is
  'Anyone, signed in or not, reads the prices of active services: the same rule as services, add-ons and membership plans (inactive catalogue entries are for the business only).';

drop policy if exists service_prices_select_member on public.service_prices;
create policy service_prices_select_member on public.service_prices
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy service_prices_select_member on public.service_prices is
  'Members of a business read all its prices, those of inactive services included.';

drop policy if exists service_prices_select_admin on public.service_prices;
create policy service_prices_select_admin on public.service_prices
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy service_prices_select_admin on public.service_prices is
  'Platform admins read every price for support.';

drop policy if exists service_prices_insert_catalog_manager on public.service_prices;
create policy service_prices_insert_catalog_manager on public.service_prices
  for insert to authenticated
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy service_prices_insert_catalog_manager on public.service_prices is
  'Members with catalog.manage add service_prices to their business.';

drop policy if exists service_prices_update_catalog_manager on public.service_prices;
create policy service_prices_update_catalog_manager on public.service_prices
  for update to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))))
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy service_prices_update_catalog_manager on public.service_prices is
  'Members with catalog.manage edit the service_prices of their business (and cannot move them to another business).';

drop policy if exists service_prices_delete_catalog_manager on public.service_prices;
create policy service_prices_delete_catalog_manager on public.service_prices
  for delete to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy service_prices_delete_catalog_manager on public.service_prices is
  'Members with catalog.manage delete the service_prices of their business.';
