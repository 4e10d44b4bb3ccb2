-- Is the caller a platform admin? Server-side list, never JWT metadata.
create or replace function private.is_platform_admin()
returns boolean
language sql
stable
parallel safe
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.platform_admins pa
    where pa.user_id = (select auth.uid())
  )
$$;
comment on function private.is_platform_admin() is
  'True when the caller (auth.uid()) is listed in platform_admins. Policy helper: use as (select private.is_platform_admin()).';
revoke execute on function private.is_platform_admin() from public, anon, authenticated, service_role;
grant execute on function private.is_platform_admin() to authenticated;
