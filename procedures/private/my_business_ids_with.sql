-- The businesses where the caller holds a permission. For policies:
--   business_id = any (array(select private.my_business_ids_with('catalog.manage')))
create or replace function private.my_business_ids_with(permission text)
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
    and (
      m.role = 'owner'
      or exists (
        select 1
        from public.role_permissions rp
        where rp.role = m.role
          and rp.permission = my_business_ids_with.permission
      )
    )
$$;
comment on function private.my_business_ids_with(text) is
  'Ids of the businesses where the caller holds permission (owners hold every permission). Policy helper: use as business_id = any (array(select private.my_business_ids_with(''catalog.manage''))).';
revoke execute on function private.my_business_ids_with(text) from public, anon, authenticated, service_role;
grant execute on function private.my_business_ids_with(text) to authenticated;
