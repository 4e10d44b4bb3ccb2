create or replace function public.invitation_revoke(invitation_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_inv public.invitations%rowtype;
begin
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if invitation_revoke.invitation_id is null then
    raise exception using errcode = '22023', message = 'invitation_id is required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  select i.* into v_inv from public.invitations i where i.id = invitation_revoke.invitation_id for update;
  -- Only members who may manage members see invitations: for everyone else
  -- an existing invitation is as missing as an unknown id.
  if not found or not private.has_permission(v_inv.business_id, 'members.manage') then
    raise exception using errcode = 'PT404', message = 'invitation not found',
      detail = 'invitation_not_found', constraint = 'invitation_not_found', hint = 'Check the invitation id.';
  end if;
  if v_inv.role = 'owner' and not exists (
    select 1 from public.business_members m
    where m.business_id = v_inv.business_id and m.user_id = v_uid and m.role = 'owner'
  ) then
    raise exception using errcode = '42501', message = 'only an owner can revoke an owner invitation',
      detail = 'owner_required', constraint = 'owner_required', hint = 'Ask an owner of the business.';
  end if;
  if v_inv.accepted_at is not null then
    raise exception using errcode = 'PT409', message = 'invitation already used',
      detail = 'invitation_already_accepted', constraint = 'invitation_already_accepted', hint = 'Remove the member with member_remove instead.';
  end if;
  if v_inv.revoked_at is not null then
    return; -- revoking twice is a no-op
  end if;
  update public.invitations i
  set revoked_at = now(), revoked_by = v_uid
  where i.id = v_inv.id;
end
$$;
comment on function public.invitation_revoke(uuid) is
  'Members with members.manage (owners for owner invitations): withdraws a pending invitation; revoking a revoked one does nothing. Errors: 42501 not_authenticated / owner_required, 22023 argument_required, PT404 invitation_not_found (unknown, or the caller may not manage members there), PT409 invitation_already_accepted.';
revoke execute on function public.invitation_revoke(uuid) from public, anon, authenticated, service_role;
grant execute on function public.invitation_revoke(uuid) to authenticated;
