create or replace function public.verification_code_issue(email text, purpose text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_email text;
  v_key bytea;
  v_n bigint;
  v_code text;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(verification_code_issue.email) > 1016 then
    raise exception using errcode = '22023', message = 'email is too long',
      detail = 'verification_email_invalid', constraint = 'verification_email_invalid', hint = 'Pass at most 254 characters.';
  end if;
  if octet_length(verification_code_issue.purpose) > 128 then
    raise exception using errcode = '22023', message = 'purpose is too long',
      detail = 'verification_purpose_invalid', constraint = 'verification_purpose_invalid', hint = 'Pass at most 32 characters.';
  end if;
  v_email := lower(btrim(verification_code_issue.email, E' \t\r\n\f'));
  -- Server only: EXECUTE is granted to service_role alone.
  if verification_code_issue.email is null or verification_code_issue.purpose is null then
    raise exception using errcode = '22023', message = 'email and purpose are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if char_length(v_email) > 254 or v_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    raise exception using errcode = '22023', message = format('invalid e-mail address %s', private.excerpt(verification_code_issue.email)),
      detail = 'verification_email_invalid', constraint = 'verification_email_invalid', hint = 'Pass an e-mail address such as name@example.com.';
  end if;
  if verification_code_issue.purpose not in ('email_verification', 'sign_in', 'password_reset') then
    raise exception using errcode = '22023', message = format('invalid purpose %s', private.excerpt(verification_code_issue.purpose)),
      detail = 'verification_purpose_invalid', constraint = 'verification_purpose_invalid', hint = 'Use email_verification, sign_in or password_reset.';
  end if;

  -- Serialise per (email, purpose) so concurrent requests cannot slip past
  -- the rate limit.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('verification_code:' || v_email || ':' || verification_code_issue.purpose, 0));
  if exists (
    select 1 from public.verification_codes vc
    where vc.email = v_email and vc.purpose = verification_code_issue.purpose
      and vc.created_at > now() - interval '60 seconds'
  ) or (
    select count(*) from public.verification_codes vc
    where vc.email = v_email and vc.purpose = verification_code_issue.purpose
      and vc.created_at > now() - interval '1 hour'
  ) >= 5 then
    raise exception using errcode = 'PT429', message = 'too many codes requested',
      detail = 'verification_rate_limited', constraint = 'verification_rate_limited', hint = 'Wait a minute between codes; at most 5 per hour.';
  end if;

  select s.value into v_key from private.secrets s where s.name = 'verification_code_hmac_key';
  if v_key is null then
    raise exception using errcode = '55000', message = 'the verification code key is missing',
      detail = 'secret_missing', constraint = 'secret_missing', hint = 'Insert verification_code_hmac_key into private.secrets.';
  end if;

  -- A uniform 6-digit code: 32 random bits, rejecting the top sliver that
  -- would bias the remainder.
  loop
    v_n := ('x' || encode(extensions.gen_random_bytes(4), 'hex'))::bit(32)::bigint;
    exit when v_n < 4294000000;
  end loop;
  v_code := lpad((v_n % 1000000)::text, 6, '0');

  insert into public.verification_codes (email, purpose, code_hmac, expires_at)
  values (v_email, verification_code_issue.purpose,
          extensions.hmac(convert_to(v_email || ':' || verification_code_issue.purpose || ':' || v_code, 'UTF8'), v_key, 'sha256'),
          now() + interval '10 minutes');
  return v_code;
end
$$;
comment on function public.verification_code_issue(text, text) is
  'Server (service_role only): issues a 6-digit code for (email, purpose), valid 10 minutes, and returns it once (send it by e-mail; it is not stored: only HMAC-SHA256(email:purpose:code) keyed with a secret from private.secrets). The new code replaces earlier ones. Rate limit per (email, purpose): one per 60 seconds, five per hour. Errors: 22023 argument_required / verification_email_invalid / verification_purpose_invalid, PT429 verification_rate_limited.';
revoke execute on function public.verification_code_issue(text, text) from public, anon, authenticated, service_role;
grant execute on function public.verification_code_issue(text, text) to service_role;
