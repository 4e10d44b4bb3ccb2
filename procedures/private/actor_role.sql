-- private.actor_role(business_id, customer_id): who the caller is to a row of
-- that business about that customer, by kind, for the *_role columns that
-- customers read (appointments.cancelled_by_role, memberships.cancelled_by_role,
-- credit_ledger.created_by_role, appointment_status_history.changed_by_role):
-- customer (the caller is the customer), staff (a member of the business),
-- admin (a platform admin), system (no signed-in caller: service_role, jobs,
-- webhooks). The one rule for what customers learn about who acted: the kind,
-- never a staff member's user id.
create or replace function private.actor_role(business_id uuid, customer_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when (select auth.uid()) is null then 'system'
    when (select auth.uid()) = actor_role.customer_id then 'customer'
    when exists (select 1 from public.business_members m
                 where m.business_id = actor_role.business_id and m.user_id = (select auth.uid())) then 'staff'
    when exists (select 1 from public.platform_admins pa where pa.user_id = (select auth.uid())) then 'admin'
    else 'system'
  end
$$;
comment on function private.actor_role(uuid, uuid) is
  'The caller''s kind for a row of business_id about customer_id: customer, staff (member), admin (platform admin) or system (no JWT sub). Fills the *_role columns customers read instead of staff user ids.';
revoke execute on function private.actor_role(uuid, uuid) from public, anon, authenticated, service_role;
