-- Tenants and identity: schemas, extensions, profiles, platform admins,
-- businesses (the tenant), their members, the permission catalogue,
-- invitations and per-business settings.
--
-- Conventions for every table in this project (see docs/errors.md for errors):
--   table -> comment -> enable RLS -> revoke/grant -> constraints and indexes.
--   RLS is enabled with no policy here (deny by default); policies live in
--   policies/<table>.sql, routines in procedures/.

-- private: helpers used by policies and procedures. Never exposed by
-- PostgREST (not in the exposed schemas); API roles may only execute the
-- helpers they are granted explicitly.
create schema if not exists private;
comment on schema private is
  'Helpers for policies and procedures (SECURITY DEFINER, owned by the migrating role). Not exposed through the API.';
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

-- extensions: where Supabase keeps extensions. pgcrypto for random tokens.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;

-- ---------------------------------------------------------------------------
-- profiles
create table public.profiles (
  id                uuid not null default auth.uid(),
  display_name      text,
  phone             text,
  phone_verified_at timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
);
comment on table public.profiles is
  'One row per user (1:1 with auth.users). The user inserts and edits display_name and phone; phone_verified_at is privileged (written by server-side flows only).';
alter table public.profiles enable row level security;
revoke all on table public.profiles from public, anon, authenticated;
grant select on table public.profiles to authenticated;
grant insert (id, display_name, phone) on table public.profiles to authenticated;
grant update (display_name, phone) on table public.profiles to authenticated;
grant select, insert, update, delete on table public.profiles to service_role;

alter table public.profiles
  add constraint profiles_pkey primary key (id),
  add constraint profiles_id_fkey foreign key (id) references auth.users (id) on delete cascade,
  add constraint profiles_display_name_check check (display_name is null or char_length(btrim(display_name)) between 1 and 100),
  add constraint profiles_phone_check check (phone is null or phone ~ '^\+?[0-9 ()-]{5,20}$');

-- ---------------------------------------------------------------------------
-- platform_admins
create table public.platform_admins (
  user_id    uuid not null,
  note       text,
  created_at timestamptz not null default now()
);
comment on table public.platform_admins is
  'Platform support staff. Server-side list (never JWT metadata): an admin reads every tenant''s rows for support and writes only through procedures. Managed by service_role / SQL only.';
alter table public.platform_admins enable row level security;
revoke all on table public.platform_admins from public, anon, authenticated;
grant select on table public.platform_admins to authenticated;
grant select, insert, update, delete on table public.platform_admins to service_role;

alter table public.platform_admins
  add constraint platform_admins_pkey primary key (user_id),
  add constraint platform_admins_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  add constraint platform_admins_note_check check (note is null or char_length(note) <= 500);

-- ---------------------------------------------------------------------------
-- businesses
create table public.businesses (
  id                 uuid not null default gen_random_uuid(),
  name               text not null,
  slug               text not null,
  timezone           text not null,
  currency           text not null default 'EUR',
  payment_required   boolean not null default false,
  staff_email_domain text,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now()
);
comment on table public.businesses is
  'The tenant: one mobile service business. Public catalogue (readable by anyone). Written only through business_create / business_update. timezone is validated against pg_timezone_names by the businesses_validate_timezone trigger; all prices of the business are in currency.';
alter table public.businesses enable row level security;
revoke all on table public.businesses from public, anon, authenticated;
grant select on table public.businesses to anon, authenticated;
grant select, insert, update, delete on table public.businesses to service_role;

alter table public.businesses
  add constraint businesses_pkey primary key (id),
  add constraint businesses_slug_key unique (slug),
  add constraint businesses_name_check check (char_length(btrim(name)) between 1 and 120),
  add constraint businesses_slug_check check (slug ~ '^[a-z0-9-]{3,63}$'),
  add constraint businesses_timezone_check check (char_length(timezone) between 1 and 64),
  add constraint businesses_currency_check check (currency ~ '^[A-Z]{3}$'),
  add constraint businesses_staff_email_domain_check
    check (staff_email_domain is null or staff_email_domain ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$');

-- ---------------------------------------------------------------------------
-- business_members
create table public.business_members (
  business_id uuid not null,
  user_id     uuid not null,
  role        text not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
comment on table public.business_members is
  'Who works for which business and in which role (owner, manager, staff). Readable by the business''s members; written only by business_create, invitation_accept, member_set_role and member_remove.';
alter table public.business_members enable row level security;
revoke all on table public.business_members from public, anon, authenticated;
grant select on table public.business_members to authenticated;
grant select, insert, update, delete on table public.business_members to service_role;

alter table public.business_members
  add constraint business_members_pkey primary key (business_id, user_id),
  add constraint business_members_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint business_members_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  add constraint business_members_role_check check (role in ('owner', 'manager', 'staff'));
-- my_business_ids() and has_permission() look members up by user.
create index business_members_user_id_idx on public.business_members (user_id, business_id, role);

-- ---------------------------------------------------------------------------
-- permissions + role_permissions: the permission catalogue (seed data)
create table public.permissions (
  name        text not null,
  description text not null
);
comment on table public.permissions is
  'The catalogue of business permissions. Seed data, changed only by migrations.';
alter table public.permissions enable row level security;
revoke all on table public.permissions from public, anon, authenticated;
grant select on table public.permissions to authenticated;
grant select, insert, update, delete on table public.permissions to service_role;

alter table public.permissions
  add constraint permissions_pkey primary key (name),
  add constraint permissions_name_check check (name ~ '^[a-z_]+\.[a-z_]+$');

create table public.role_permissions (
  role       text not null,
  permission text not null
);
comment on table public.role_permissions is
  'Global role -> permission mapping for manager and staff. Owners hold every permission implicitly (private.has_permission), so they have no rows here. Seed data, changed only by migrations.';
alter table public.role_permissions enable row level security;
revoke all on table public.role_permissions from public, anon, authenticated;
grant select on table public.role_permissions to authenticated;
grant select, insert, update, delete on table public.role_permissions to service_role;

alter table public.role_permissions
  add constraint role_permissions_pkey primary key (role, permission),
  add constraint role_permissions_permission_fkey foreign key (permission) references public.permissions (name) on update cascade on delete cascade,
  add constraint role_permissions_role_check check (role in ('manager', 'staff'));
create index role_permissions_permission_idx on public.role_permissions (permission);

insert into public.permissions (name, description) values
  ('members.manage',      'Invite members and see invitations.'),
  ('catalog.manage',      'Create, edit and delete services, prices and add-ons.'),
  ('schedule.manage',     'Edit working hours, crews and blackouts.'),
  ('appointments.manage', 'Reschedule, cancel and move appointments through their statuses.'),
  ('notes.manage',        'Write internal notes on customers and appointments.'),
  ('billing.view',        'See payments and invoices.'),
  ('credits.manage',      'Grant and adjust customer credits.');

insert into public.role_permissions (role, permission) values
  ('manager', 'members.manage'),
  ('manager', 'catalog.manage'),
  ('manager', 'schedule.manage'),
  ('manager', 'appointments.manage'),
  ('manager', 'notes.manage'),
  ('manager', 'billing.view'),
  ('staff',   'appointments.manage'),
  ('staff',   'notes.manage');

-- ---------------------------------------------------------------------------
-- invitations
create table public.invitations (
  id          uuid not null default gen_random_uuid(),
  business_id uuid not null,
  email       text not null,
  role        text not null,
  token_hash  bytea not null,
  expires_at  timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid,
  invited_by  uuid,
  created_at  timestamptz not null default now()
);
comment on table public.invitations is
  'Invitations to join a business. The token is returned once by invitation_create and stored only as its sha256 (token_hash; the token has 256 random bits, so the hash reveals nothing). Readable by members with members.manage and by the invitee (matching e-mail); written only by invitation_create / invitation_accept.';
alter table public.invitations enable row level security;
revoke all on table public.invitations from public, anon, authenticated;
grant select on table public.invitations to authenticated;
grant select, insert, update, delete on table public.invitations to service_role;

alter table public.invitations
  add constraint invitations_pkey primary key (id),
  add constraint invitations_token_hash_key unique (token_hash),
  add constraint invitations_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint invitations_accepted_by_fkey foreign key (accepted_by) references auth.users (id) on delete set null,
  add constraint invitations_invited_by_fkey foreign key (invited_by) references auth.users (id) on delete set null,
  add constraint invitations_email_check check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and char_length(email) <= 254),
  add constraint invitations_role_check check (role in ('owner', 'manager', 'staff')),
  add constraint invitations_token_hash_check check (octet_length(token_hash) = 32),
  add constraint invitations_expires_at_check check (expires_at > created_at),
  add constraint invitations_accepted_check check (accepted_by is null or accepted_at is not null);
-- One pending invitation per (business, e-mail); invitation_create replaces it.
create unique index invitations_business_id_email_pending_key on public.invitations (business_id, email) where accepted_at is null;
create index invitations_business_id_idx on public.invitations (business_id);
create index invitations_email_idx on public.invitations (email);
create index invitations_accepted_by_idx on public.invitations (accepted_by) where accepted_by is not null;
create index invitations_invited_by_idx on public.invitations (invited_by) where invited_by is not null;

-- ---------------------------------------------------------------------------
-- business_settings
create table public.business_settings (
  business_id uuid not null,
  key         text not null,
  value       integer not null,
  updated_at  timestamptz not null default now()
);
comment on table public.business_settings is
  'Typed per-business settings: one integer per key, each key with its own range CHECK. A missing row means the default (private.setting). Public (customers see cutoffs); written only by business_setting_set.';
alter table public.business_settings enable row level security;
revoke all on table public.business_settings from public, anon, authenticated;
grant select on table public.business_settings to anon, authenticated;
grant select, insert, update, delete on table public.business_settings to service_role;

alter table public.business_settings
  add constraint business_settings_pkey primary key (business_id, key),
  add constraint business_settings_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint business_settings_key_check check (key in (
    'hold_minutes', 'max_active_holds_per_customer', 'max_upcoming_appointments_per_customer',
    'customer_cancel_cutoff_hours', 'customer_reschedule_cutoff_hours')),
  add constraint business_settings_hold_minutes_check
    check (key <> 'hold_minutes' or value between 1 and 120),
  add constraint business_settings_max_active_holds_per_customer_check
    check (key <> 'max_active_holds_per_customer' or value between 1 and 20),
  add constraint business_settings_max_upcoming_appointments_per_customer_check
    check (key <> 'max_upcoming_appointments_per_customer' or value between 1 and 50),
  add constraint business_settings_customer_cancel_cutoff_hours_check
    check (key <> 'customer_cancel_cutoff_hours' or value between 0 and 168),
  add constraint business_settings_customer_reschedule_cutoff_hours_check
    check (key <> 'customer_reschedule_cutoff_hours' or value between 0 and 168);
