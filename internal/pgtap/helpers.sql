-- dbtool's implementation of the Supabase test helpers that pgTAP suites
-- load with `create extension "basejump-supabase_test_helpers"`, written
-- from their documented behaviour (same names, arguments and effects),
-- installed by dbtool test when the server lacks that extension.
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- A user as sign-up makes one, found again by its identifier.
create or replace function tests.create_supabase_user(identifier text, email text default null, phone text default null, metadata jsonb default null)
returns uuid
language plpgsql security definer set search_path = auth, pg_temp
as $$
declare
  user_id uuid := gen_random_uuid();
begin
  insert into auth.users (instance_id, id, aud, role, email, phone, encrypted_password, email_confirmed_at,
                          raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  values ('00000000-0000-0000-0000-000000000000', user_id, 'authenticated', 'authenticated',
          coalesce(create_supabase_user.email, concat(user_id, '@test.com')), create_supabase_user.phone, '', now(),
          '{"provider": "email", "providers": ["email"]}',
          jsonb_build_object('test_identifier', identifier) || coalesce(metadata, '{}'::jsonb), now(), now());
  return user_id;
end
$$;

create or replace function tests.get_supabase_user(identifier text) returns json
language plpgsql security definer set search_path = auth, pg_temp
as $$
declare
  supabase_user json;
begin
  select json_build_object('id', id, 'email', email, 'phone', phone, 'raw_user_meta_data', raw_user_meta_data,
                           'raw_app_meta_data', raw_app_meta_data)
    into supabase_user
  from auth.users where raw_user_meta_data ->> 'test_identifier' = identifier limit 1;
  if supabase_user is null or supabase_user ->> 'id' is null then
    raise exception 'User with identifier % not found', identifier;
  end if;
  return supabase_user;
end
$$;

create or replace function tests.get_supabase_uid(identifier text) returns uuid
language plpgsql security definer set search_path = auth, pg_temp
as $$
declare
  supabase_user uuid;
begin
  select id into supabase_user from auth.users where raw_user_meta_data ->> 'test_identifier' = identifier limit 1;
  if supabase_user is null then
    raise exception 'User with identifier % not found', identifier;
  end if;
  return supabase_user;
end
$$;

-- Act as that user for the rest of the transaction, as PostgREST would.
create or replace function tests.authenticate_as(identifier text) returns void
language plpgsql
as $$
declare
  u json := tests.get_supabase_user(identifier);
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims', json_build_object('sub', u ->> 'id', 'role', 'authenticated', 'email', u ->> 'email',
    'phone', u ->> 'phone', 'user_metadata', u -> 'raw_user_meta_data', 'app_metadata', u -> 'raw_app_meta_data')::text, true);
  perform set_config('request.jwt.claim.sub', '', true);
end
$$;

create or replace function tests.authenticate_as_service_role() returns void
language plpgsql
as $$
begin
  perform set_config('role', 'service_role', true);
  perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
end
$$;

create or replace function tests.clear_authentication() returns void
language plpgsql
as $$
begin
  perform set_config('role', 'anon', true);
  perform set_config('request.jwt.claims', '{"role": "anon"}', true);
end
$$;

-- pgTAP checks that row level security is on.
create or replace function tests.rls_enabled(testing_schema text) returns text
language sql
as $$
  select ok(not exists (select 1 from pg_tables where schemaname = testing_schema and not rowsecurity),
            'All tables in the ' || testing_schema || ' schema should have row level security enabled');
$$;

create or replace function tests.rls_enabled(testing_schema text, testing_table text) returns text
language sql
as $$
  select ok(exists (select 1 from pg_tables where schemaname = testing_schema and tablename = testing_table and rowsecurity),
            'Table ' || testing_schema || '.' || testing_table || ' should have row level security enabled');
$$;

-- now() frozen for the rest of the session: a now() earlier on the search
-- path than pg_catalog's.
create schema if not exists test_overrides;
grant usage on schema test_overrides to anon, authenticated, service_role;

create or replace function tests.freeze_time(frozen_time timestamptz) returns void
language plpgsql security definer
as $$
begin
  execute format('create or replace function test_overrides.now() returns timestamptz language sql stable as %L',
                 format('select %L::timestamptz', frozen_time));
  execute 'grant execute on function test_overrides.now() to anon, authenticated, service_role';
  perform set_config('search_path', 'test_overrides, ' || current_setting('search_path') || ', pg_catalog', false);
end
$$;

create or replace function tests.unfreeze_time() returns void
language plpgsql security definer
as $$
begin
  drop function if exists test_overrides.now();
  perform set_config('search_path', replace(replace(current_setting('search_path'), 'test_overrides, ', ''), ', pg_catalog', ''), false);
end
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
