-- The crews of a business free for a whole slot. The single definition of
-- "free" used by availability_get, hold_create, hold_confirm and
-- appointment_reschedule. Callers that book take the crew through
-- private.crew_claim, which locks it and asks again, so the answer stays
-- true until commit.
--
-- Planned once per session: PL/pgSQL, not SQL (a SECURITY DEFINER SQL
-- function is never inlined and its query was planned again on every call,
-- most of its cost), and each NOT EXISTS is kept a per-crew subplan on the
-- crew's index (OFFSET 0: not turned into an anti join), so the plan is the
-- same for any argument and the plan cache keeps the generic one (as anti
-- joins it chose a new custom plan on every call). plan_cache_mode is
-- force_generic_plan: with a few thousand appointments in the statistics the
-- generic plan (the same index scans) is estimated dearer than a custom one,
-- so the plan cache went back to planning on every call (pg_stat_statements:
-- 26435 plans in 36015 calls, 0.26 ms each, after 12000 bookings).
create or replace function private.free_crew_ids(
  business_id uuid,
  slot tstzrange,
  ignore_hold_id uuid default null,
  ignore_appointment_id uuid default null)
returns setof uuid
language plpgsql
stable
parallel safe
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
begin
  return query
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
        and h.expires_at > now()
        and h.slot && free_crew_ids.slot
        and h.id is distinct from free_crew_ids.ignore_hold_id
      offset 0
    )
  order by c.name, c.id;
end
$$;
comment on function private.free_crew_ids(uuid, tstzrange, uuid, uuid) is
  'Active crews of business_id with no blackout (business-wide or their own), no confirmed/in-progress appointment and no live hold overlapping slot, ordered by name. ignore_hold_id / ignore_appointment_id leave one booking out (the one being confirmed or moved).';
revoke execute on function private.free_crew_ids(uuid, tstzrange, uuid, uuid) from public, anon, authenticated, service_role;
