-- dbtool platform layer v2: hosted Supabase as a migration sees it. Written
-- from Supabase's documented behaviour (docs and the shapes projects rely on);
-- not a copy of Supabase's own files. Idempotent.

-- The platform's other roles. Supabase creates them with more power
-- (supabase_admin is a superuser there); dbtool never creates superusers, so
-- they exist for GRANTs, ownership and policies that name them.
do $$
declare
  r record;
begin
  for r in select * from (values
      ('supabase_admin', 'nologin noinherit createrole createdb bypassrls'),
      ('supabase_auth_admin', 'nologin noinherit createrole'),
      ('supabase_storage_admin', 'nologin noinherit createrole'),
      ('dashboard_user', 'nologin createrole createdb'),
      ('pgbouncer', 'nologin')) as t(name, options)
  loop
    if not exists (select 1 from pg_roles where rolname = r.name) then
      begin
        execute format('create role %I %s', r.name, r.options);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end
$$;

-- extensions: where Supabase installs extensions, on everyone's search_path.
create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;
do $$
begin
  if not exists (select 1 from pg_extension where extname = 'pgcrypto') then
    create extension pgcrypto with schema extensions;
  end if;
  if not exists (select 1 from pg_extension where extname = 'uuid-ossp') then
    create extension "uuid-ossp" with schema extensions;
  end if;
  execute format('alter database %I set search_path to "$user", public, extensions', current_database());
end
$$;
-- As on Supabase, extension functions are callable by every role.
grant execute on all functions in schema extensions to public;
-- Role settings are cluster-wide: set them once, tolerating another
-- database of the cluster setting them at the same time.
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select 1 from pg_db_role_setting s join pg_roles o on o.oid = s.setrole
                   where o.rolname = r and s.setdatabase = 0 and s.setconfig @> array['search_path="$user", public, extensions']) then
      begin
        execute format('alter role %I set search_path to "$user", public, extensions', r);
      exception when others then
        null; -- a concurrent ALTER ROLE from another database did it
      end;
    end if;
  end loop;
end
$$;
select set_config('search_path', '"$user", public, extensions', false);

-- auth.users as the auth server writes it: the id has no default (the
-- server supplies it), every column a project trigger may read is there.
alter table auth.users alter column id drop default;
alter table auth.users
  add column if not exists instance_id uuid,
  add column if not exists encrypted_password text,
  add column if not exists invited_at timestamptz,
  add column if not exists confirmation_token text,
  add column if not exists confirmation_sent_at timestamptz,
  add column if not exists recovery_token text,
  add column if not exists recovery_sent_at timestamptz,
  add column if not exists email_change_token_new text,
  add column if not exists email_change text,
  add column if not exists email_change_sent_at timestamptz,
  add column if not exists last_sign_in_at timestamptz,
  add column if not exists is_super_admin boolean,
  add column if not exists phone_confirmed_at timestamptz,
  add column if not exists phone_change text default '',
  add column if not exists phone_change_token text default '',
  add column if not exists phone_change_sent_at timestamptz,
  add column if not exists email_change_token_current text default '',
  add column if not exists email_change_confirm_status smallint default 0,
  add column if not exists banned_until timestamptz,
  add column if not exists reauthentication_token text default '',
  add column if not exists reauthentication_sent_at timestamptz,
  add column if not exists is_sso_user boolean not null default false,
  add column if not exists deleted_at timestamptz;
do $$
begin
  if not exists (select 1 from pg_attribute where attrelid = 'auth.users'::regclass and attname = 'confirmed_at' and not attisdropped) then
    alter table auth.users add column confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored;
  end if;
end
$$;
alter table auth.users alter column raw_app_meta_data drop not null, alter column raw_user_meta_data drop not null;
-- The auth server's column types: email, aud and role are varchar(255) there,
-- and functions that return them declare `character varying` (a RETURNS
-- TABLE (email varchar) over text fails with 42804 at run time). Done once,
-- while nothing depends on the columns.
do $$
begin
  if (select atttypid from pg_attribute where attrelid = 'auth.users'::regclass and attname = 'email') = 'text'::regtype then
    alter table auth.users
      alter column email type varchar(255),
      alter column aud type varchar(255),
      alter column role type varchar(255),
      alter column encrypted_password type varchar(255);
  end if;
exception when feature_not_supported or dependent_objects_still_exist then
  null; -- a view or rule already reads them: keep the types it was built on
end
$$;

create table if not exists auth.identities (
  provider_id     text not null,
  user_id         uuid not null references auth.users (id) on delete cascade,
  identity_data   jsonb not null,
  provider        text not null,
  last_sign_in_at timestamptz,
  created_at      timestamptz,
  updated_at      timestamptz,
  email           text generated always as (lower(identity_data ->> 'email')) stored,
  id              uuid not null default gen_random_uuid() primary key,
  unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);

create table if not exists auth.sessions (
  id           uuid not null primary key,
  user_id      uuid not null references auth.users (id) on delete cascade,
  created_at   timestamptz,
  updated_at   timestamptz,
  factor_id    uuid,
  aal          text,
  not_after    timestamptz,
  refreshed_at timestamp,
  user_agent   text,
  ip           inet,
  tag          text
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);

create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id          bigserial primary key,
  token       varchar(255) unique,
  user_id     varchar(255),
  revoked     boolean,
  created_at  timestamptz,
  updated_at  timestamptz,
  parent      varchar(255),
  session_id  uuid references auth.sessions (id) on delete cascade
);

revoke all on auth.identities, auth.sessions, auth.refresh_tokens from public, anon, authenticated;
grant all on auth.users, auth.identities, auth.sessions, auth.refresh_tokens to supabase_auth_admin, service_role;
grant usage on schema auth to supabase_auth_admin;

-- storage: buckets and objects (RLS on, as on Supabase; projects write the
-- policies), with the path helpers policies use.
create schema if not exists storage;
grant usage on schema storage to anon, authenticated, service_role, supabase_storage_admin;

create table if not exists storage.buckets (
  id                 text not null primary key,
  name               text not null unique,
  owner              uuid,
  owner_id           text,
  created_at         timestamptz default now(),
  updated_at         timestamptz default now(),
  public             boolean default false,
  avif_autodetection boolean default false,
  file_size_limit    bigint,
  allowed_mime_types text[]
);

create table if not exists storage.objects (
  id               uuid not null default gen_random_uuid() primary key,
  bucket_id        text references storage.buckets (id),
  name             text,
  owner            uuid,
  owner_id         text,
  created_at       timestamptz default now(),
  updated_at       timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata         jsonb,
  path_tokens      text[] generated always as (string_to_array(name, '/')) stored,
  version          text,
  user_metadata    jsonb,
  unique (bucket_id, name)
);
alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;
grant all on storage.buckets, storage.objects to anon, authenticated, service_role, supabase_storage_admin;

create or replace function storage.foldername(name text) returns text[]
  language plpgsql immutable
  set search_path = ''
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1:array_length(_parts, 1) - 1];
end
$$;
comment on function storage.foldername(text) is 'The folders of an object''s path: storage.foldername(''a/b/c.png'') = {a,b}.';

create or replace function storage.filename(name text) returns text
  language plpgsql immutable
  set search_path = ''
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$$;
comment on function storage.filename(text) is 'The file name of an object''s path: storage.filename(''a/b/c.png'') = c.png.';

create or replace function storage.extension(name text) returns text
  language plpgsql immutable
  set search_path = ''
as $$
declare
  _parts text[];
  _filename text;
begin
  select string_to_array(name, '/') into _parts;
  select _parts[array_length(_parts, 1)] into _filename;
  return reverse(split_part(reverse(_filename), '.', 1));
end
$$;
comment on function storage.extension(text) is 'The extension of an object''s file name: storage.extension(''a/b/c.png'') = png.';
grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text) to anon, authenticated, service_role;

-- The API's other schemas and the realtime publication projects add tables to.
create schema if not exists graphql_public;
grant usage on schema graphql_public to anon, authenticated, service_role;
create schema if not exists realtime;
grant usage on schema realtime to anon, authenticated, service_role;
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;
