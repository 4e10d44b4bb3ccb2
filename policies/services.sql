-- Policies of public.services. Tier 3 (public catalogue): anyone reads active services; members with catalog.manage write them.

drop policy if exists services_select_public on public.services;
create policy services_select_public on public.services
  for select to anon, authenticated
  using (active);
comment on policy services_select_public on public.services is
  'Anyone, signed in or not, reads active services.';

drop policy if exists services_select_member on public.services;
create policy services_select_member on public.services
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy services_select_member on public.services is
  'Members of a business read all its services, inactive ones included.';

drop policy if exists services_select_admin on public.services;
create policy services_select_admin on public.services
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy services_select_admin on public.services is
  'Platform admins (platform_admins, never JWT metadata) read every service for support; they change them only through procedures.';

drop policy if exists services_insert_catalog_manager on public.services;
create policy services_insert_catalog_manager on public.services
  for insert to authenticated
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy services_insert_catalog_manager on public.services is
  'Members with catalog.manage add services to their business.';

drop policy if exists services_update_catalog_manager on public.services;
create policy services_update_catalog_manager on public.services
  for update to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))))
  with check (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy services_update_catalog_manager on public.services is
  'Members with catalog.manage edit the services of their business (and cannot move them to another business).';

drop policy if exists services_delete_catalog_manager on public.services;
create policy services_delete_catalog_manager on public.services
  for delete to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy services_delete_catalog_manager on public.services is
  'Members with catalog.manage delete the services of their business (refused with 23503 while appointments reference them: deactivate instead).';
