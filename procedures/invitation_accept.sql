create or replace function public.invitation_accept(token text)
returns setof public.business_members
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_email text := lower(auth.email());
  v_inv public.invitations%rowtype;
  v_domain text;
begin
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  -- Tokens are 64 hex digits: anything much longer is not one (and is not
  -- worth hashing).
  if octet_length(invitation_accept.token) > 256 then
    raise exception using errcode = 'PT404', message = 'invitation not found',
      detail = 'invitation_not_found', constraint = 'invitation_not_found', hint = 'Pass the token from the invitation e-mail.';
  end if;
  if invitation_accept.token is null or invitation_accept.token = '' then
    raise exception using errcode = '22023', message = 'token is required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass the token from the invitation e-mail.';
  end if;

  select i.* into v_inv
  from public.invitations i
  where i.token_hash = sha256(convert_to(invitation_accept.token, 'UTF8'))
  for update;
  -- An invitation for another address is treated as missing: it does not
  -- tell the caller that the token exists.
  if not found or v_inv.email is distinct from v_email then
    raise exception using errcode = 'PT404', message = 'invitation not found',
      detail = 'invitation_not_found', constraint = 'invitation_not_found', hint = 'Sign in with the e-mail address the invitation was sent to, or ask for a new invitation.';
  end if;
  if v_inv.accepted_at is not null then
    raise exception using errcode = 'PT409', message = 'invitation already used',
      detail = 'invitation_already_accepted', constraint = 'invitation_already_accepted', hint = 'An invitation can be used once; ask for a new one.';
  end if;
  if v_inv.revoked_at is not null then
    raise exception using errcode = 'P0001', message = 'invitation revoked',
      detail = 'invitation_revoked', constraint = 'invitation_revoked', hint = 'The business withdrew this invitation; ask for a new one.';
  end if;
  -- The invitation carries its issuer's authority, checked now, not when it
  -- was sent: the issuer must still be a member who may manage members, and
  -- an owner for an owner invitation. The issuer's membership row is locked
  -- (FOR SHARE) so a concurrent demotion or removal waits for this accept,
  -- or this accept sees its result.
  if not exists (
    select 1
    from public.business_members m
    where m.business_id = v_inv.business_id
      and m.user_id = v_inv.invited_by
      and (m.role = 'owner'
           or (v_inv.role <> 'owner' and exists (
                 select 1 from public.role_permissions rp
                 where rp.role = m.role and rp.permission = 'members.manage')))
    for share of m
  ) then
    raise exception using errcode = 'P0001', message = 'the person who invited you can no longer grant this role',
      detail = 'invitation_issuer_unauthorized', constraint = 'invitation_issuer_unauthorized',
      hint = 'Ask a current owner or manager of the business for a new invitation.';
  end if;
  if v_inv.expires_at <= now() then
    raise exception using errcode = 'P0001', message = 'invitation expired',
      detail = 'invitation_expired', constraint = 'invitation_expired', hint = 'Ask the business for a new invitation.';
  end if;
  select b.staff_email_domain into v_domain from public.businesses b where b.id = v_inv.business_id;
  if v_domain is not null and split_part(v_email, '@', 2) <> v_domain then
    raise exception using errcode = 'P0001', message = format('members of this business need an @%s address', v_domain),
      detail = 'staff_email_domain_mismatch', constraint = 'staff_email_domain_mismatch', hint = 'The business changed its staff e-mail domain; ask for a new invitation.';
  end if;
  if exists (
    select 1 from public.business_members m
    where m.business_id = v_inv.business_id and m.user_id = v_uid
  ) then
    raise exception using errcode = 'PT409', message = 'you are already a member of this business',
      detail = 'member_exists', constraint = 'member_exists', hint = 'Ask an owner to change your role instead.';
  end if;

  insert into public.business_members (business_id, user_id, role)
  values (v_inv.business_id, v_uid, v_inv.role);
  update public.invitations i
  set accepted_at = now(), accepted_by = v_uid
  where i.id = v_inv.id;

  return query
    select m.* from public.business_members m
    where m.business_id = v_inv.business_id and m.user_id = v_uid;
end
$$;
comment on function public.invitation_accept(text) is
  'Accepts an invitation: the caller''s e-mail (auth.email()) must be the invited one; single use; expires; revocable (invitation_revoke); valid only while its issuer may still grant its role (a member with members.manage, an owner for owner invitations). The caller becomes a member with the invited role. Errors: 42501 not_authenticated, 22023 argument_required, PT404 invitation_not_found (unknown token or another address), P0001 invitation_revoked / invitation_issuer_unauthorized / invitation_expired / staff_email_domain_mismatch, PT409 invitation_already_accepted / member_exists.';
revoke execute on function public.invitation_accept(text) from public, anon, authenticated, service_role;
grant execute on function public.invitation_accept(text) to authenticated;
