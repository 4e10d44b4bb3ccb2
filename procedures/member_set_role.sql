create or replace function public.member_set_role(business_id uuid, user_id uuid, role text)
returns setof public.business_members
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_caller_role text;
  v_target_role text;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(member_set_role.role) > 64 then
    raise exception using errcode = '22023', message = 'role is too long',
      detail = 'member_role_invalid', constraint = 'member_role_invalid', hint = 'Pass at most 16 characters.';
  end if;
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if member_set_role.business_id is null or member_set_role.user_id is null then
    raise exception using errcode = '22023', message = 'business_id and user_id are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if member_set_role.role is null or member_set_role.role not in ('owner', 'manager', 'staff') then
    raise exception using errcode = '22023', message = format('invalid role %s', private.excerpt(member_set_role.role)),
      detail = 'member_role_invalid', constraint = 'member_role_invalid', hint = 'Use owner, manager or staff.';
  end if;
  if not exists (select 1 from public.businesses b where b.id = member_set_role.business_id) then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;

  -- Lock the owner rows first: concurrent demotions serialise here, and the
  -- checks below read the state after the other transaction committed.
  perform 1 from public.business_members m
  where m.business_id = member_set_role.business_id and m.role = 'owner'
  for update;

  select m.role into v_caller_role from public.business_members m
  where m.business_id = member_set_role.business_id and m.user_id = v_uid;
  if v_caller_role is distinct from 'owner' then
    raise exception using errcode = '42501', message = 'only an owner of the business can do this',
      detail = 'owner_required', constraint = 'owner_required', hint = 'Ask an owner of the business.';
  end if;

  select m.role into v_target_role from public.business_members m
  where m.business_id = member_set_role.business_id and m.user_id = member_set_role.user_id
  for update;
  if not found then
    raise exception using errcode = 'PT404', message = 'member not found',
      detail = 'member_not_found', constraint = 'member_not_found', hint = 'Check the user id; invite people who are not members yet.';
  end if;
  if v_target_role = 'owner' and member_set_role.role <> 'owner' and (
    select count(*) from public.business_members m
    where m.business_id = member_set_role.business_id and m.role = 'owner'
  ) <= 1 then
    raise exception using errcode = 'PT409', message = 'the last owner cannot be demoted',
      detail = 'last_owner', constraint = 'last_owner', hint = 'Make another member an owner first.';
  end if;

  update public.business_members m
  set role = member_set_role.role
  where m.business_id = member_set_role.business_id and m.user_id = member_set_role.user_id;

  return query
    select m.* from public.business_members m
    where m.business_id = member_set_role.business_id and m.user_id = member_set_role.user_id;
end
$$;
comment on function public.member_set_role(uuid, uuid, text) is
  'Owner only: changes a member''s role. A business always keeps at least one owner (owner rows are locked FOR UPDATE, so concurrent demotions cannot leave none). Errors: 42501 not_authenticated / owner_required, 22023 argument_required / member_role_invalid, PT404 business_not_found / member_not_found, PT409 last_owner.';
revoke execute on function public.member_set_role(uuid, uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.member_set_role(uuid, uuid, text) to authenticated;
