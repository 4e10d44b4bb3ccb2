-- The businesses the caller is a member of (any role). For policies:
--   business_id = any (array(select private.my_business_ids()))
-- SECURITY DEFINER so it reads business_members without RLS (no recursion).
create or replace function private.my_business_ids()
returns setof uuid
language sql
stable
parallel safe
security definer
set search_path = ''
as $$
  select m.business_id
  from public.business_members m
  where m.user_id = (select auth.uid())
$$;
comment on function private.my_business_ids() is
  'Ids of the businesses the caller (auth.uid()) is a member of, in any role. Policy helper: use as business_id = any (array(select private.my_business_ids())).';
revoke execute on function private.my_business_ids() from public, anon, authenticated, service_role;
grant execute on function private.my_business_ids() to authenticated;
