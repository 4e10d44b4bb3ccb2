create or replace function public.verification_code_consume(email text, purpose text, code text)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_email text;
  v_code text;
  v_row public.verification_codes%rowtype;
  v_key bytea;
  v_mac bytea;
  v_diff integer := 0;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(verification_code_consume.email) > 1016 then
    raise exception using errcode = '22023', message = 'email is too long',
      detail = 'verification_email_invalid', constraint = 'verification_email_invalid', hint = 'Pass at most 254 characters.';
  end if;
  if octet_length(verification_code_consume.purpose) > 128 then
    raise exception using errcode = '22023', message = 'purpose is too long',
      detail = 'verification_purpose_invalid', constraint = 'verification_purpose_invalid', hint = 'Pass at most 32 characters.';
  end if;
  if octet_length(verification_code_consume.code) > 128 then
    raise exception using errcode = '22023', message = 'code is too long',
      detail = 'verification_code_invalid', constraint = 'verification_code_invalid', hint = 'Pass at most 32 characters.';
  end if;
  v_email := lower(btrim(verification_code_consume.email, E' \t\r\n\f'));
  v_code := btrim(verification_code_consume.code, E' \t\r\n\f');
  -- Server only: EXECUTE is granted to service_role alone.
  if verification_code_consume.email is null or verification_code_consume.purpose is null or verification_code_consume.code is null then
    raise exception using errcode = '22023', message = 'email, purpose and code are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if verification_code_consume.purpose not in ('email_verification', 'sign_in', 'password_reset') then
    raise exception using errcode = '22023', message = format('invalid purpose %s', private.excerpt(verification_code_consume.purpose)),
      detail = 'verification_purpose_invalid', constraint = 'verification_purpose_invalid', hint = 'Use email_verification, sign_in or password_reset.';
  end if;
  if v_code !~ '^[0-9]{6}$' then
    raise exception using errcode = '22023', message = 'a code is 6 digits',
      detail = 'verification_code_invalid', constraint = 'verification_code_invalid', hint = 'Pass the 6 digits from the e-mail.';
  end if;

  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('verification_code:' || v_email || ':' || verification_code_consume.purpose, 0));
  -- Only the newest code counts.
  select vc.* into v_row
  from public.verification_codes vc
  where vc.email = v_email and vc.purpose = verification_code_consume.purpose
  order by vc.created_at desc, vc.id desc
  limit 1
  for update;
  if not found then
    raise exception using errcode = 'PT404', message = 'no code was issued',
      detail = 'verification_code_not_found', constraint = 'verification_code_not_found', hint = 'Ask for a code first.';
  end if;
  if v_row.consumed_at is not null then
    raise exception using errcode = 'PT409', message = 'the code was used already',
      detail = 'verification_code_used', constraint = 'verification_code_used', hint = 'Ask for a new code.';
  end if;
  if v_row.locked_at is not null then
    raise exception using errcode = 'P0001', message = 'too many wrong codes',
      detail = 'verification_code_locked', constraint = 'verification_code_locked', hint = 'Ask for a new code.';
  end if;
  if v_row.expires_at <= now() then
    raise exception using errcode = 'P0001', message = 'the code has expired',
      detail = 'verification_code_expired', constraint = 'verification_code_expired', hint = 'Ask for a new code.';
  end if;

  select s.value into v_key from private.secrets s where s.name = 'verification_code_hmac_key';
  v_mac := extensions.hmac(convert_to(v_email || ':' || verification_code_consume.purpose || ':' || v_code, 'UTF8'), v_key, 'sha256');
  -- Constant-time comparison of the two MACs (all 32 bytes, always).
  for i in 0 .. 31 loop
    v_diff := v_diff | (get_byte(v_mac, i) # get_byte(v_row.code_hmac, i));
  end loop;

  if v_diff = 0 then
    update public.verification_codes vc set consumed_at = now() where vc.id = v_row.id;
    return true;
  end if;
  -- A wrong guess is counted (and committed: this returns, it does not raise).
  update public.verification_codes vc
  set attempts = vc.attempts + 1,
      locked_at = case when vc.attempts + 1 >= vc.max_attempts then now() end
  where vc.id = v_row.id;
  return false;
end
$$;
comment on function public.verification_code_consume(text, text, text) is
  'Server (service_role only): checks code against the newest code issued for (email, purpose). true: correct, and the code is consumed (single use). false: wrong, the attempt is counted; after max_attempts (5) wrong guesses the code is locked. The comparison is of HMACs, in constant time. Errors: 22023 argument_required / verification_purpose_invalid / verification_code_invalid (not 6 digits; not counted), PT404 verification_code_not_found, P0001 verification_code_locked / verification_code_expired, PT409 verification_code_used.';
revoke execute on function public.verification_code_consume(text, text, text) from public, anon, authenticated, service_role;
grant execute on function public.verification_code_consume(text, text, text) to service_role;
