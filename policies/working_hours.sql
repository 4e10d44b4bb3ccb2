-- Policies of public.working_hours. Tier 3 (public): anyone reads opening hours; members with schedule.manage write them.

drop policy if exists working_hours_select_public on public.working_hours;
create policy working_hours_select_public on public.working_hours
  for select to anon, authenticated
  using (true);
comment on policy working_hours_select_public on public.working_hours is
  'Anyone, signed in or not, reads working hours.';

drop policy if exists working_hours_insert_schedule_manager on public.working_hours;
create policy working_hours_insert_schedule_manager on public.working_hours
  for insert to authenticated
  with check (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy working_hours_insert_schedule_manager on public.working_hours is
  'Members with schedule.manage add working_hours to their business.';

drop policy if exists working_hours_update_schedule_manager on public.working_hours;
create policy working_hours_update_schedule_manager on public.working_hours
  for update to authenticated
  using (business_id = any (array(select private.my_business_ids_with('schedule.manage'))))
  with check (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy working_hours_update_schedule_manager on public.working_hours is
  'Members with schedule.manage edit the working_hours of their business (and cannot move them to another business).';

drop policy if exists working_hours_delete_schedule_manager on public.working_hours;
create policy working_hours_delete_schedule_manager on public.working_hours
  for delete to authenticated
  using (business_id = any (array(select private.my_business_ids_with('schedule.manage'))));
comment on policy working_hours_delete_schedule_manager on public.working_hours is
  'Members with schedule.manage delete the working_hours of their business.';
