-- Policies of public.admin_notes. Tier 2 (business staff): members with notes.manage read their business's notes; written only by admin_note_add. Customers never see them.

drop policy if exists admin_notes_select_notes_manager on public.admin_notes;
create policy admin_notes_select_notes_manager on public.admin_notes
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids_with('notes.manage'))));
comment on policy admin_notes_select_notes_manager on public.admin_notes is
  'Members with notes.manage read the notes of their business.';

drop policy if exists admin_notes_select_admin on public.admin_notes;
create policy admin_notes_select_admin on public.admin_notes
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy admin_notes_select_admin on public.admin_notes is
  'Platform admins (platform_admins, never JWT metadata) read every note for support; they change nothing.';
