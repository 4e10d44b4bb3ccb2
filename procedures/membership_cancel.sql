create or replace function public.membership_cancel(membership_id uuid)
returns setof public.memberships
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_membership public.memberships%rowtype;
begin
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if membership_cancel.membership_id is null then
    raise exception using errcode = '22023', message = 'membership_id is required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  select m.* into v_membership from public.memberships m where m.id = membership_cancel.membership_id;
  -- Members of the business and platform admins can see the membership, so
  -- for them it exists: 42501. Everyone else: the same error as a missing id.
  if not found or (v_membership.customer_id <> v_uid
                   and not exists (select 1 from public.business_members m
                                   where m.business_id = v_membership.business_id and m.user_id = v_uid)
                   and not private.is_platform_admin()) then
    raise exception using errcode = 'PT404', message = 'membership not found',
      detail = 'membership_not_found', constraint = 'membership_not_found', hint = 'Check the membership id.';
  end if;
  if v_membership.customer_id <> v_uid and not exists (
    select 1 from public.business_members m
    where m.business_id = v_membership.business_id and m.user_id = v_uid and m.role = 'owner'
  ) then
    raise exception using errcode = '42501', message = 'only the customer or an owner of the business can cancel a membership',
      detail = 'owner_required', constraint = 'owner_required', hint = 'Ask an owner of the business.';
  end if;

  select m.* into v_membership from public.memberships m where m.id = membership_cancel.membership_id for update;
  if v_membership.status <> 'active' then
    raise exception using errcode = 'P0001', message = format('the membership is %s', v_membership.status),
      detail = 'membership_not_active', constraint = 'membership_not_active', hint = 'Only an active membership can be cancelled.';
  end if;

  update public.memberships m
  set status = 'cancelled', cancelled_at = now(),
      cancelled_by = case when v_uid = m.customer_id then v_uid end,
      cancelled_by_role = private.actor_role(m.business_id, m.customer_id)
  where m.id = v_membership.id
  returning * into v_membership;
  return next v_membership;
end
$$;
comment on function public.membership_cancel(uuid) is
  'Cancels an active membership: its customer or an owner of its business. Credits already granted stay; billing stops renewing it (membership_activate starts a new one). Errors: 42501 not_authenticated / owner_required, 22023 argument_required, PT404 membership_not_found, P0001 membership_not_active.';
revoke execute on function public.membership_cancel(uuid) from public, anon, authenticated, service_role;
grant execute on function public.membership_cancel(uuid) to authenticated, service_role;
