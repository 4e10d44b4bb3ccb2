-- Policies of public.invitations. Tier 2 + 4: managers of members see their business's invitations, the invitee sees invitations to their e-mail; writes only through invitation_create / invitation_accept.

drop policy if exists invitations_select_member_manager on public.invitations;
create policy invitations_select_member_manager on public.invitations
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids_with('members.manage'))));
comment on policy invitations_select_member_manager on public.invitations is
  'Members with members.manage see the invitations of their business.';

drop policy if exists invitations_select_invitee on public.invitations;
create policy invitations_select_invitee on public.invitations
  for select to authenticated
  using (email = (select lower(auth.email())));
comment on policy invitations_select_invitee on public.invitations is
  'A signed-in user sees the invitations sent to their e-mail address (auth.email()).';

drop policy if exists invitations_select_admin on public.invitations;
create policy invitations_select_admin on public.invitations
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy invitations_select_admin on public.invitations is
  'Platform admins (platform_admins, never JWT metadata) read every invitation for support; they change them only through procedures.';
