-- Policies of public.role_permissions. Reference data: signed-in users read which role holds which permission; changed only by migrations.

drop policy if exists role_permissions_select_authenticated on public.role_permissions;
create policy role_permissions_select_authenticated on public.role_permissions
  for select to authenticated
  using (true);
comment on policy role_permissions_select_authenticated on public.role_permissions is
  'Any signed-in user reads the role -> permission mapping.';
