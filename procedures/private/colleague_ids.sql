-- Users who share a business with the caller (the caller included).
create or replace function private.colleague_ids()
returns setof uuid
language sql
stable
parallel safe
security definer
set search_path = ''
as $$
  select distinct other.user_id
  from public.business_members me
  join public.business_members other on other.business_id = me.business_id
  where me.user_id = (select auth.uid())
$$;
comment on function private.colleague_ids() is
  'Ids of the users who are members of a business the caller is a member of. Policy helper for profiles: id = any (array(select private.colleague_ids())).';
revoke execute on function private.colleague_ids() from public, anon, authenticated, service_role;
grant execute on function private.colleague_ids() to authenticated;
