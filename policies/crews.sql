-- Policies of public.crews. Tier 2 (business staff): members read crews; members with schedule.manage write them.

drop policy if exists crews_select_member on public.crews;
create policy crews_select_member on public.crews
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy crews_select_member on public.crews is
  'Members of a business read its crews.';

drop policy if exists crews_select_admin on public.crews;
create policy crews_select_admin on public.crews
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy crews_select_admin on public.crews is
  'Platform admins (platform_admins, never JWT metadata) read every crew for support; they change them only through procedures.';

drop policy if exists crews_insert_schedule_manager on public.crews;
create policy crews_insert_schedule_manager on public.crews
  for insert to authenticated
  with check (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy crews_insert_schedule_manager on public.crews is
  'Members with schedule.manage add crews to their business.';

drop policy if exists crews_update_schedule_manager on public.crews;
create policy crews_update_schedule_manager on public.crews
  for update to authenticated
  using (business_id = any (array(select private.my_business_ids_with('schedule.manage'))))
  with check (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy crews_update_schedule_manager on public.crews is
  'Members with schedule.manage edit the crews of their business (and cannot move them to another business).';

drop policy if exists crews_delete_schedule_manager on public.crews;
create policy crews_delete_schedule_manager on public.crews
  for delete to authenticated
  using (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy crews_delete_schedule_manager on public.crews is
  'Members with schedule.manage delete the crews of their business (refused with 23503 while appointments reference them: set active = false instead).';
