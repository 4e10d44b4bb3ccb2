-- Verification codes (e-mail verification, sign-in, password reset): issued
-- and consumed only by server code (service_role). Only an HMAC-SHA256 of the
-- code is stored, keyed with a secret that lives in private.secrets, a table
-- no API role can read (service_role included): a leaked verification_codes
-- table does not let anyone brute-force the 6-digit codes offline.

-- ---------------------------------------------------------------------------
-- private.secrets
create table private.secrets (
  name       text not null,
  value      bytea not null,
  created_at timestamptz not null default now()
);
comment on table private.secrets is
  'Server-side secrets (HMAC keys). Readable only by the owner role (the migrating role that owns the SECURITY DEFINER routines); no grants to anon, authenticated or service_role, RLS on with no policy. Rotate by updating value (codes issued before a rotation stop verifying).';
alter table private.secrets enable row level security;
revoke all on table private.secrets from public, anon, authenticated, service_role;

alter table private.secrets
  add constraint secrets_pkey primary key (name),
  add constraint secrets_name_check check (name ~ '^[a-z0-9_]{1,63}$'),
  add constraint secrets_value_check check (octet_length(value) >= 32);

insert into private.secrets (name, value)
values ('verification_code_hmac_key', extensions.gen_random_bytes(32))
on conflict (name) do nothing;

-- ---------------------------------------------------------------------------
-- verification_codes
create table public.verification_codes (
  id           uuid not null default gen_random_uuid(),
  email        text not null,
  purpose      text not null,
  code_hmac    bytea not null,
  attempts     integer not null default 0,
  max_attempts integer not null default 5,
  expires_at   timestamptz not null,
  consumed_at  timestamptz,
  locked_at    timestamptz,
  created_at   timestamptz not null default now()
);
comment on table public.verification_codes is
  'One-time codes sent by e-mail. code_hmac = HMAC-SHA256(email:purpose:code) keyed with private.secrets.verification_code_hmac_key; the code itself is returned once by verification_code_issue and never stored. Only the newest code of an (email, purpose) counts; it is single use (consumed_at), expires (expires_at, 10 minutes) and locks after max_attempts wrong guesses (locked_at). Server-side only: no grants to anon or authenticated; service_role reads, and writes only through verification_code_issue / verification_code_consume.';
alter table public.verification_codes enable row level security;
revoke all on table public.verification_codes from public, anon, authenticated;
grant select on table public.verification_codes to service_role;

alter table public.verification_codes
  add constraint verification_codes_pkey primary key (id),
  add constraint verification_codes_email_check check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and char_length(email) <= 254),
  add constraint verification_codes_purpose_check check (purpose in ('email_verification', 'sign_in', 'password_reset')),
  add constraint verification_codes_code_hmac_check check (octet_length(code_hmac) = 32),
  add constraint verification_codes_attempts_check check (attempts between 0 and max_attempts),
  add constraint verification_codes_max_attempts_check check (max_attempts between 1 and 10),
  add constraint verification_codes_expires_at_check check (expires_at > created_at),
  add constraint verification_codes_locked_check check (locked_at is null or (attempts >= max_attempts and consumed_at is null)),
  add constraint verification_codes_consumed_check check (consumed_at is null or locked_at is null);
-- The newest code of an (email, purpose), and the rate limit.
create index verification_codes_email_purpose_idx on public.verification_codes (email, purpose, created_at desc);
-- Clean-up of old codes.
create index verification_codes_created_at_idx on public.verification_codes (created_at);
