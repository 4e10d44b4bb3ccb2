-- The customers booked (appointments) at a business the caller is a member of.
create or replace function private.served_customer_ids()
returns setof uuid
language sql
stable
parallel safe
security definer
set search_path = ''
as $$
  select distinct a.customer_id
  from public.appointments a
  where a.business_id in (
    select m.business_id
    from public.business_members m
    where m.user_id = (select auth.uid())
  )
$$;
comment on function private.served_customer_ids() is
  'Ids of the customers of appointments at the businesses the caller is a member of, so staff can see who and what they serve. Policy helper: use as ... = any (array(select private.served_customer_ids())).';
revoke execute on function private.served_customer_ids() from public, anon, authenticated, service_role;
grant execute on function private.served_customer_ids() to authenticated;
