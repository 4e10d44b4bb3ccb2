-- Policies of public.permissions. Reference data: signed-in users read the permission catalogue; changed only by migrations.

drop policy if exists permissions_select_authenticated on public.permissions;
create policy permissions_select_authenticated on public.permissions
  for select to authenticated
  using (true);
comment on policy permissions_select_authenticated on public.permissions is
  'Any signed-in user reads the permission catalogue.';
