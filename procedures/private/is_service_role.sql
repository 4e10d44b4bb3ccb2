-- Is the request made with the service_role key? Both the JWT role claim and
-- the session role must say so (a signed-in user cannot become service_role
-- by editing claims, and a superuser session without the role is not it).
--
-- SQL, SECURITY INVOKER, no SET clause: the planner inlines it into the
-- calling statement like auth.role() (a SECURITY DEFINER or SET function is
-- never inlined: it was parsed and planned again in every transaction). It
-- reads no table, so it needs no definer rights; every name and operator is
-- schema-qualified, so the caller's search_path cannot change what it calls.
create or replace function private.is_service_role()
returns boolean
language sql
stable
parallel safe
as $$
  -- The session role first: for every other caller the JWT is not parsed.
  select coalesce(pg_catalog.current_setting('role', true) operator(pg_catalog.=) 'service_role', false)
     and coalesce(auth.role() operator(pg_catalog.=) 'service_role', false)
$$;
comment on function private.is_service_role() is
  'True when the request runs as service_role (JWT role claim and session role). Procedures use it to let trusted server code exceed per-customer caps; it never replaces the identity check (auth.uid()). Inlinable (SQL, invoker, no SET): reads only settings.';
revoke execute on function private.is_service_role() from public, anon, authenticated, service_role;
