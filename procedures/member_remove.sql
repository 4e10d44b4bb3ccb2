create or replace function public.member_remove(business_id uuid, user_id uuid)
returns void
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
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if member_remove.business_id is null or member_remove.user_id is null then
    raise exception using errcode = '22023', message = 'business_id and user_id are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if not exists (select 1 from public.businesses b where b.id = member_remove.business_id) then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;

  -- Lock the owner rows first (see member_set_role).
  perform 1 from public.business_members m
  where m.business_id = member_remove.business_id and m.role = 'owner'
  for update;

  select m.role into v_caller_role from public.business_members m
  where m.business_id = member_remove.business_id and m.user_id = v_uid;
  if member_remove.user_id <> v_uid and v_caller_role is distinct from 'owner' then
    raise exception using errcode = '42501', message = 'only an owner can remove other members',
      detail = 'owner_required', constraint = 'owner_required', hint = 'Ask an owner of the business; you can always leave yourself.';
  end if;

  select m.role into v_target_role from public.business_members m
  where m.business_id = member_remove.business_id and m.user_id = member_remove.user_id
  for update;
  if not found then
    raise exception using errcode = 'PT404', message = 'member not found',
      detail = 'member_not_found', constraint = 'member_not_found', hint = 'Check the user id.';
  end if;
  if v_target_role = 'owner' and (
    select count(*) from public.business_members m
    where m.business_id = member_remove.business_id and m.role = 'owner'
  ) <= 1 then
    raise exception using errcode = 'PT409', message = 'the last owner cannot leave',
      detail = 'last_owner', constraint = 'last_owner', hint = 'Make another member an owner first.';
  end if;

  delete from public.business_members m
  where m.business_id = member_remove.business_id and m.user_id = member_remove.user_id;
end
$$;
comment on function public.member_remove(uuid, uuid) is
  'Removes a member: an owner removes anyone, any member removes themselves. The last owner cannot leave (owner rows locked FOR UPDATE). Errors: 42501 not_authenticated / owner_required, 22023 argument_required, PT404 business_not_found / member_not_found, PT409 last_owner.';
revoke execute on function public.member_remove(uuid, uuid) from public, anon, authenticated, service_role;
grant execute on function public.member_remove(uuid, uuid) to authenticated;
