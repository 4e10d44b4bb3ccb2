-- Policies of public.vehicles. Tier 1 (user-owned): the customer reads and writes their own vehicles; members of a business read the vehicles used by its appointments.

drop policy if exists vehicles_select_self on public.vehicles;
create policy vehicles_select_self on public.vehicles
  for select to authenticated
  using (user_id = (select auth.uid()));
comment on policy vehicles_select_self on public.vehicles is
  'A customer reads their own vehicles.';

drop policy if exists vehicles_insert_self on public.vehicles;
create policy vehicles_insert_self on public.vehicles
  for insert to authenticated
  with check (user_id = (select auth.uid()));
comment on policy vehicles_insert_self on public.vehicles is
  'A customer adds vehicles for themselves only.';

drop policy if exists vehicles_update_self on public.vehicles;
create policy vehicles_update_self on public.vehicles
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
comment on policy vehicles_update_self on public.vehicles is
  'A customer edits their own vehicles (column grants keep user_id fixed).';

drop policy if exists vehicles_delete_self on public.vehicles;
create policy vehicles_delete_self on public.vehicles
  for delete to authenticated
  using (user_id = (select auth.uid()));
comment on policy vehicles_delete_self on public.vehicles is
  'A customer deletes their own vehicles; one referenced by an appointment cannot be deleted (foreign key, 23503).';

drop policy if exists vehicles_select_staff on public.vehicles;
create policy vehicles_select_staff on public.vehicles
  for select to authenticated
  using (id = any (array(select private.served_vehicle_ids())));
comment on policy vehicles_select_staff on public.vehicles is
  'Members of a business read the vehicles of its appointments (where to go, what to work on).';

drop policy if exists vehicles_select_admin on public.vehicles;
create policy vehicles_select_admin on public.vehicles
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy vehicles_select_admin on public.vehicles is
  'Platform admins (platform_admins, never JWT metadata) read every vehicle for support; they change them only through procedures.';
