-- Does the caller hold a permission in one business? For procedure bodies.
-- (Policies use the array form, private.my_business_ids_with.)
create or replace function private.has_permission(business_id uuid, permission text)
returns boolean
language sql
stable
parallel safe
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.business_members m
    where m.business_id = has_permission.business_id
      and m.user_id = (select auth.uid())
      and (
        m.role = 'owner'
        or exists (
          select 1
          from public.role_permissions rp
          where rp.role = m.role
            and rp.permission = has_permission.permission
        )
      )
  )
$$;
comment on function private.has_permission(uuid, text) is
  'True when the caller (auth.uid()) is a member of business_id whose role holds permission; owners hold every permission. For procedure bodies; policies use private.my_business_ids_with.';
revoke execute on function private.has_permission(uuid, text) from public, anon, authenticated, service_role;
grant execute on function private.has_permission(uuid, text) to authenticated;
