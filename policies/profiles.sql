-- Policies of public.profiles. Tier 1 (user-owned): the user inserts and edits their own profile (column grants limit updates to display_name and phone); staff read the profiles of colleagues and of the customers they serve.

drop policy if exists profiles_select_self on public.profiles;
create policy profiles_select_self on public.profiles
  for select to authenticated
  using (id = (select auth.uid()));
comment on policy profiles_select_self on public.profiles is
  'A user reads their own profile.';

drop policy if exists profiles_select_colleague on public.profiles;
create policy profiles_select_colleague on public.profiles
  for select to authenticated
  using (id = any (array(select private.colleague_ids())));
comment on policy profiles_select_colleague on public.profiles is
  'Members of a business read the profiles of the other members of that business.';

drop policy if exists profiles_select_staff on public.profiles;
create policy profiles_select_staff on public.profiles
  for select to authenticated
  using (id = any (array(select private.served_customer_ids())));
comment on policy profiles_select_staff on public.profiles is
  'Members of a business read the profiles of customers who have an appointment with it.';

drop policy if exists profiles_select_admin on public.profiles;
create policy profiles_select_admin on public.profiles
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy profiles_select_admin on public.profiles is
  'Platform admins (platform_admins, never JWT metadata) read every profile for support; they change them only through procedures.';

drop policy if exists profiles_insert_self on public.profiles;
create policy profiles_insert_self on public.profiles
  for insert to authenticated
  with check (id = (select auth.uid()));
comment on policy profiles_insert_self on public.profiles is
  'A user creates their own profile (id = their user id) and no other.';

drop policy if exists profiles_update_self on public.profiles;
create policy profiles_update_self on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));
comment on policy profiles_update_self on public.profiles is
  'A user edits their own profile; the column grant limits this to display_name and phone.';
