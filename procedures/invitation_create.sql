create or replace function public.invitation_create(business_id uuid, email text, role text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_email text;
  v_domain text;
  v_token text;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(invitation_create.email) > 1016 then
    raise exception using errcode = '22023', message = 'email is too long',
      detail = 'invitation_email_invalid', constraint = 'invitation_email_invalid', hint = 'Pass at most 254 characters.';
  end if;
  if octet_length(invitation_create.role) > 64 then
    raise exception using errcode = '22023', message = 'role is too long',
      detail = 'member_role_invalid', constraint = 'member_role_invalid', hint = 'Pass at most 16 characters.';
  end if;
  v_email := lower(btrim(invitation_create.email, E' \t\r\n\f'));
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if invitation_create.business_id is null then
    raise exception using errcode = '22023', message = 'business_id is required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  select b.staff_email_domain into v_domain
  from public.businesses b where b.id = invitation_create.business_id;
  if not found then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  if not private.has_permission(invitation_create.business_id, 'members.manage') then
    raise exception using errcode = '42501', message = 'permission members.manage required',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Ask an owner for a role with members.manage.';
  end if;
  if invitation_create.role is null or invitation_create.role not in ('owner', 'manager', 'staff') then
    raise exception using errcode = '22023', message = format('invalid role %s', private.excerpt(invitation_create.role)),
      detail = 'member_role_invalid', constraint = 'member_role_invalid', hint = 'Use owner, manager or staff.';
  end if;
  if invitation_create.role = 'owner' and not exists (
    select 1 from public.business_members m
    where m.business_id = invitation_create.business_id and m.user_id = v_uid and m.role = 'owner'
  ) then
    raise exception using errcode = '42501', message = 'only an owner can invite an owner',
      detail = 'owner_required', constraint = 'owner_required', hint = 'Ask an owner of the business.';
  end if;
  if v_email is null or char_length(v_email) > 254 or v_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    raise exception using errcode = '22023', message = format('invalid e-mail address %s', private.excerpt(invitation_create.email)),
      detail = 'invitation_email_invalid', constraint = 'invitation_email_invalid', hint = 'Pass an e-mail address such as name@example.com.';
  end if;
  if v_domain is not null and split_part(v_email, '@', 2) <> v_domain then
    raise exception using errcode = 'P0001', message = format('members of this business need an @%s address', v_domain),
      detail = 'staff_email_domain_mismatch', constraint = 'staff_email_domain_mismatch', hint = 'Invite the person''s address in the business''s staff e-mail domain.';
  end if;
  if exists (
    select 1
    from public.business_members m
    join auth.users u on u.id = m.user_id
    where m.business_id = invitation_create.business_id
      and lower(u.email) = v_email
  ) then
    raise exception using errcode = 'PT409', message = 'this person is already a member',
      detail = 'member_exists', constraint = 'member_exists', hint = 'Change their role with member_set_role instead.';
  end if;

  -- A new invitation replaces a pending one for the same address.
  delete from public.invitations i
  where i.business_id = invitation_create.business_id
    and i.email = v_email
    and i.accepted_at is null
    and i.revoked_at is null;

  v_token := encode(extensions.gen_random_bytes(32), 'hex');
  insert into public.invitations (business_id, email, role, token_hash, expires_at, invited_by)
  values (invitation_create.business_id, v_email, invitation_create.role,
          sha256(convert_to(v_token, 'UTF8')), now() + interval '7 days', v_uid);
  return v_token;
end
$$;
comment on function public.invitation_create(uuid, text, text) is
  'Members with members.manage (owners for role owner): invites email to the business with role, valid 7 days, replacing a pending invitation for the same address. Returns the token once (only its sha256 is stored). Enforces the business''s staff_email_domain. Errors: 42501 not_authenticated / permission_required / owner_required, PT404 business_not_found, 22023 argument_required / member_role_invalid / invitation_email_invalid, P0001 staff_email_domain_mismatch, PT409 member_exists.';
revoke execute on function public.invitation_create(uuid, text, text) from public, anon, authenticated, service_role;
grant execute on function public.invitation_create(uuid, text, text) to authenticated;
