-- dbtool platform layer v1: what Supabase provides and the SQL layer relies on.
-- Installed by dbtool on plain PostgreSQL before any migration; never on a real
-- Supabase database (which has all of this already). Idempotent.

-- API roles. Roles are cluster-wide: create them only when missing, and
-- tolerate another database of the cluster creating them at the same time.
do $$
declare
  r record;
begin
  for r in select * from (values
      ('anon', 'nologin noinherit'),
      ('authenticated', 'nologin noinherit'),
      ('service_role', 'nologin noinherit bypassrls'),
      ('authenticator', 'login noinherit')) as t(name, options)
  loop
    if not exists (select 1 from pg_roles where rolname = r.name) then
      begin
        execute format('create role %I %s', r.name, r.options);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
  for r in select unnest(array['anon', 'authenticated', 'service_role']) as name loop
    if not pg_has_role('authenticator', r.name, 'member') then
      begin
        execute format('grant %I to authenticator', r.name);
      exception when others then
        -- a concurrent grant from another database of the cluster
        if not pg_has_role('authenticator', r.name, 'member') then
          raise;
        end if;
      end;
    end if;
  end loop;
end
$$;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC. Revoke that by
-- default for functions this role creates: every routine is granted
-- explicitly to the roles that need it.
alter default privileges revoke execute on functions from public;

grant usage on schema public to anon, authenticated, service_role;

-- auth: the platform's identity schema.
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create table if not exists auth.users (
  id                 uuid primary key default gen_random_uuid(),
  email              text unique,
  phone              text unique,
  role               text not null default 'authenticated',
  aud                text not null default 'authenticated',
  raw_app_meta_data  jsonb not null default '{}'::jsonb,
  raw_user_meta_data jsonb not null default '{}'::jsonb,
  is_anonymous       boolean not null default false,
  email_confirmed_at timestamptz,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now()
);
comment on table auth.users is
  'Platform users (dbtool''s stand-in for Supabase Auth''s table). Not readable by API roles.';
revoke all on auth.users from public, anon, authenticated;
grant all on auth.users to service_role;

-- Request claims, read exactly as Supabase does: the legacy per-claim setting
-- (request.jwt.claim.<name>) first, then the claims JSON (request.jwt.claims).
-- Like Supabase's, these have no SET search_path (a SET clause stops the
-- planner from inlining a SQL function: every call in every policy would be
-- planned and run as a function call); every name in them is qualified
-- instead, so the caller's search_path cannot redirect them.
create or replace function auth.uid() returns uuid
  language sql stable parallel safe
as $$
  select coalesce(
    nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
    (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb operator(pg_catalog.->>) 'sub')
  )::pg_catalog.uuid
$$;
comment on function auth.uid() is 'The caller''s user id (the JWT sub claim), or null.';

create or replace function auth.role() returns text
  language sql stable parallel safe
as $$
  select coalesce(
    nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
    (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb operator(pg_catalog.->>) 'role')
  )::pg_catalog.text
$$;
comment on function auth.role() is 'The caller''s JWT role claim (anon, authenticated, service_role), or null.';

create or replace function auth.email() returns text
  language sql stable parallel safe
as $$
  select coalesce(
    nullif(pg_catalog.current_setting('request.jwt.claim.email', true), ''),
    (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb operator(pg_catalog.->>) 'email')
  )::pg_catalog.text
$$;
comment on function auth.email() is 'The caller''s JWT email claim, or null.';

create or replace function auth.jwt() returns jsonb
  language sql stable parallel safe
as $$
  select coalesce(
    nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
    nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
  )::pg_catalog.jsonb
$$;
comment on function auth.jwt() is 'All claims of the caller''s JWT, or null.';

revoke execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() from public;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role;
