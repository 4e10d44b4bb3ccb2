-- Policies of public.addresses. Tier 1 (user-owned): the customer reads and writes their own addresses; members of a business read the addresses used by its appointments.

drop policy if exists addresses_select_self on public.addresses;
create policy addresses_select_self on public.addresses
  for select to authenticated
  using (user_id = (select auth.uid()));
comment on policy addresses_select_self on public.addresses is
  'A customer reads their own addresses.';

drop policy if exists addresses_insert_self on public.addresses;
create policy addresses_insert_self on public.addresses
  for insert to authenticated
  with check (user_id = (select auth.uid()));
comment on policy addresses_insert_self on public.addresses is
  'A customer adds addresses for themselves only.';

drop policy if exists addresses_update_self on public.addresses;
create policy addresses_update_self on public.addresses
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
comment on policy addresses_update_self on public.addresses is
  'A customer edits their own addresses (column grants keep user_id fixed).';

drop policy if exists addresses_delete_self on public.addresses;
create policy addresses_delete_self on public.addresses
  for delete to authenticated
  using (user_id = (select auth.uid()));
comment on policy addresses_delete_self on public.addresses is
  'A customer deletes their own addresses; one referenced by an appointment cannot be deleted (foreign key, 23503).';

drop policy if exists addresses_select_staff on public.addresses;
create policy addresses_select_staff on public.addresses
  for select to authenticated
  using (id = any (array(select private.served_address_ids())));
comment on policy addresses_select_staff on public.addresses is
  'Members of a business read the addresses of its appointments (where to go, what to work on).';

drop policy if exists addresses_select_admin on public.addresses;
create policy addresses_select_admin on public.addresses
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy addresses_select_admin on public.addresses is
  'Platform admins (platform_admins, never JWT metadata) read every address for support; they change them only through procedures.';
