-- Policies of public.notifications. Tier 4 (system rows): the recipient reads customer notifications, the business's members read business notifications; written only by triggers and procedures.

drop policy if exists notifications_select_recipient on public.notifications;
create policy notifications_select_recipient on public.notifications
  for select to authenticated
  using (recipient_id = (select auth.uid()));
comment on policy notifications_select_recipient on public.notifications is
  'A customer reads the notifications addressed to them.';

drop policy if exists notifications_select_member on public.notifications;
create policy notifications_select_member on public.notifications
  for select to authenticated
  using (audience = 'business' and business_id = any (array(select private.my_business_ids())));
comment on policy notifications_select_member on public.notifications is
  'Members of a business read the notifications addressed to the business (not those sent to its customers).';

drop policy if exists notifications_select_admin on public.notifications;
create policy notifications_select_admin on public.notifications
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy notifications_select_admin on public.notifications is
  'Platform admins (platform_admins, never JWT metadata) read every notification for support; they change nothing.';
