-- Policies of public.service_prices. Tier 3 (public catalogue): anyone reads prices; members with catalog.manage write them.

drop policy if exists service_prices_select_public on public.service_prices;
create policy service_prices_select_public on public.service_prices
  for select to anon, authenticated
  using (true);
comment on policy service_prices_select_public on public.service_prices is
  'Anyone, signed in or not, reads service prices.';

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
