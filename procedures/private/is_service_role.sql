-- Is the request made with the service_role key? Both the JWT role claim and
-- the session role must say so (a signed-in user cannot become service_role
-- by editing claims, and a superuser session without the role is not it).
create or replace function private.is_service_role()
returns boolean
language sql
stable
parallel safe
security definer
set search_path = ''
as $$
  select coalesce(auth.role() = 'service_role', false)
     and coalesce(current_setting('role', true) = 'service_role', false)
$$;
comment on function private.is_service_role() is
  'True when the request runs as service_role (JWT role claim and session role). Procedures use it to let trusted server code exceed per-customer caps; it never replaces the identity check (auth.uid()).';
revoke execute on function private.is_service_role() from public, anon, authenticated, service_role;
