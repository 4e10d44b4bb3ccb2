-- Policies of public.blackouts. Tier 2 (business staff): members read blackouts; members with schedule.manage write them.

drop policy if exists blackouts_select_member on public.blackouts;
create policy blackouts_select_member on public.blackouts
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy blackouts_select_member on public.blackouts is
  'Members of a business read its blackouts.';

drop policy if exists blackouts_select_admin on public.blackouts;
create policy blackouts_select_admin on public.blackouts
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy blackouts_select_admin on public.blackouts is
  'Platform admins (platform_admins, never JWT metadata) read every blackout for support; they change them only through procedures.';

drop policy if exists blackouts_insert_schedule_manager on public.blackouts;
create policy blackouts_insert_schedule_manager on public.blackouts
  for insert to authenticated
  with check (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy blackouts_insert_schedule_manager on public.blackouts is
  'Members with schedule.manage add blackouts to their business.';

drop policy if exists blackouts_update_schedule_manager on public.blackouts;
create policy blackouts_update_schedule_manager on public.blackouts
  for update to authenticated
  using (business_id = any (array(select private.my_business_ids_with('schedule.manage'))))
  with check (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy blackouts_update_schedule_manager on public.blackouts is
  'Members with schedule.manage edit the blackouts of their business (and cannot move them to another business).';

drop policy if exists blackouts_delete_schedule_manager on public.blackouts;
create policy blackouts_delete_schedule_manager on public.blackouts
  for delete to authenticated
  using (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy blackouts_delete_schedule_manager on public.blackouts is
  'Members with schedule.manage delete the blackouts of their business.';
