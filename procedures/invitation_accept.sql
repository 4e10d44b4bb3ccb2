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
      constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if invitation_accept.token is null or invitation_accept.token = '' then
    raise exception using errcode = '22023', message = 'token is required',
      constraint = 'argument_required', hint = 'Pass the token from the invitation e-mail.';
  end if;

  select i.* into v_inv
  from public.invitations i
  where i.token_hash = sha256(convert_to(invitation_accept.token, 'UTF8'))
  for update;
  -- An invitation for another address is treated as missing: it does not
  -- tell the caller that the token exists.
  if not found or v_inv.email is distinct from v_email then
    raise exception using errcode = 'P0002', message = 'invitation not found',
      constraint = 'invitation_not_found', hint = 'Sign in with the e-mail address the invitation was sent to, or ask for a new invitation.';
  end if;
  if v_inv.accepted_at is not null then
    raise exception using errcode = 'P0001', message = 'invitation already used',
      constraint = 'invitation_already_accepted', hint = 'An invitation can be used once; ask for a new one.';
  end if;
  if v_inv.expires_at <= now() then
    raise exception using errcode = 'P0001', message = 'invitation expired',
      constraint = 'invitation_expired', hint = 'Ask the business for a new invitation.';
  end if;
  select b.staff_email_domain into v_domain from public.businesses b where b.id = v_inv.business_id;
  if v_domain is not null and split_part(v_email, '@', 2) <> v_domain then
    raise exception using errcode = 'P0001', message = format('members of this business need an @%s address', v_domain),
      constraint = 'staff_email_domain_mismatch', hint = 'The business changed its staff e-mail domain; ask for a new invitation.';
  end if;
  if exists (
    select 1 from public.business_members m
    where m.business_id = v_inv.business_id and m.user_id = v_uid
  ) then
    raise exception using errcode = 'P0001', message = 'you are already a member of this business',
      constraint = 'member_exists', hint = 'Ask an owner to change your role instead.';
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
  'Accepts an invitation: the caller''s e-mail (auth.email()) must be the invited one; single use; expires. The caller becomes a member with the invited role. Errors: 42501 not_authenticated, 22023 argument_required, P0002 invitation_not_found (unknown token or another address), P0001 invitation_already_accepted / invitation_expired / staff_email_domain_mismatch / member_exists.';
revoke execute on function public.invitation_accept(text) from public, anon, authenticated, service_role;
grant execute on function public.invitation_accept(text) to authenticated;
