-- Policies of public.platform_admins. Tier 4 (system rows): an admin sees their own row; the list is managed by service_role / SQL only.

drop policy if exists platform_admins_select_self on public.platform_admins;
create policy platform_admins_select_self on public.platform_admins
  for select to authenticated
  using (user_id = (select auth.uid()));
comment on policy platform_admins_select_self on public.platform_admins is
  'A platform admin sees their own row (so a client can tell it is an admin); nobody sees the list.';
