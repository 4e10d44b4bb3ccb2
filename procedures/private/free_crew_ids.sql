-- The crews of a business free for a whole slot. The single definition of
-- "free" used by availability_get, hold_create, hold_confirm and
-- appointment_reschedule. Callers that book take the crew through
-- private.crew_claim, which locks it and asks again, so the answer stays
-- true until commit.
--
-- SQL, SECURITY INVOKER, no SET clause: the planner inlines it into the
-- calling statement (crew_claim's look-ups, availability_get's count per
-- slot), so a call costs no function call, no nested statement and no
-- tuplestore (it was PL/pgSQL SECURITY DEFINER; a definer SQL function is
-- never inlined). Every caller is a SECURITY DEFINER procedure with
-- search_path = '' (EXECUTE is revoked from the API roles), so it reads the
-- tables as their owner, as before, and resolves no name through an API
-- role's search_path. Each NOT EXISTS stays a per-crew subplan on the crew's
-- index (OFFSET 0: not turned into an anti join), so the plan is the same
-- for any argument; the booking procedures plan it generically
-- (plan_cache_mode = force_generic_plan on hold_create, hold_confirm and
-- crew_claim: with a few thousand appointments in the statistics the generic
-- plan, the same index scans, is estimated dearer than a custom one, and the
-- plan cache went back to planning on every call).
create or replace function private.free_crew_ids(
  business_id uuid,
  slot tstzrange,
  ignore_hold_id uuid default null,
  ignore_appointment_id uuid default null)
returns setof uuid
language sql
stable
parallel safe
as $$
  select c.id
  from public.crews c
  where c.business_id = free_crew_ids.business_id
    and c.active
    -- no blackout of the whole business or of this crew
    and not exists (
      select 1
      from public.blackouts bo
      where bo.business_id = free_crew_ids.business_id
        and (bo.crew_id is null or bo.crew_id = c.id)
        and bo.during && free_crew_ids.slot
      offset 0
    )
    -- no confirmed or in-progress appointment of this crew
    and not exists (
      select 1
      from public.appointments a
      where a.crew_id = c.id
        and a.status in ('confirmed', 'in_progress')
        and a.slot && free_crew_ids.slot
        and a.id is distinct from free_crew_ids.ignore_appointment_id
      offset 0
    )
    -- no live hold on this crew
    and not exists (
      select 1
      from public.holds h
      where h.crew_id = c.id
        and h.status = 'active'
        and h.expires_at > pg_catalog.now()
        and h.slot && free_crew_ids.slot
        and h.id is distinct from free_crew_ids.ignore_hold_id
      offset 0
    )
  order by c.name, c.id
$$;
comment on function private.free_crew_ids(uuid, tstzrange, uuid, uuid) is
  'Active crews of business_id with no blackout (business-wide or their own), no confirmed/in-progress appointment and no live hold overlapping slot, ordered by name. ignore_hold_id / ignore_appointment_id leave one booking out (the one being confirmed or moved).';
revoke execute on function private.free_crew_ids(uuid, tstzrange, uuid, uuid) from public, anon, authenticated, service_role;
