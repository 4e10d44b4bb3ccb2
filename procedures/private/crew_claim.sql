-- private.crew_claim(business_id, slot, prefer_crew_id, ignore_hold_id,
-- ignore_appointment_id): picks a crew free for slot and locks it for slot
-- until commit, or returns null when none is. Every procedure that makes a
-- crew busy (hold_create, appointment_from_hold for hold_confirm and
-- payment_event_record, appointment_reschedule) books the crew it returns,
-- so "this crew is free" stays true until it commits.
--
-- The lock: a transaction-level advisory lock per (crew, quarter hour of the
-- epoch the slot touches). Two overlapping slots share at least one quarter
-- hour, so two bookings of one crew at overlapping times queue; bookings of
-- other crews, or of the same crew at other times, go ahead in parallel.
-- After the lock the crew is checked again with a new snapshot (a booking
-- that held the lock before has committed, and is seen, or rolled back).
--
-- Order: prefer_crew_id first (locked, then checked), then the crews free
-- in an unlocked look (private.free_crew_ids: by name). No deadlock:
-- keys are ordered by (crew id, quarter hour), and this function waits
-- only for a key greater than every crew key it holds: quarter hours
-- ascending within a crew, and a crew with a greater id than every crew
-- locked so far. A candidate that comes out of that order is only tried
-- (pg_try_advisory_xact_lock, never waits): if another booking is taking
-- it at an overlapping time right now it counts as busy. The caller may
-- hold the customer lock (private.booking_lock) and row locks, taken before.
--
-- Generic plans only (plan_cache_mode): private.free_crew_ids is inlined into
-- these statements, whose custom plans never differ from the generic one.
-- The checks under the lock ask about the one crew locked (EXISTS ... WHERE
-- crew_id = it: the condition reaches the crews scan, so only that crew's
-- blackouts, appointments and holds are read; as "crew IN (free crews)" they
-- were read for every crew of the business, 2.5% of a booking's server
-- instructions with three crews).
create or replace function private.crew_claim(
  business_id uuid,
  slot tstzrange,
  prefer_crew_id uuid default null,
  ignore_hold_id uuid default null,
  ignore_appointment_id uuid default null)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
  v_first bigint;
  v_last bigint;
  v_cell bigint;
  v_crew uuid;
  v_max uuid;        -- the greatest crew id locked so far
  v_locked boolean;
begin
  if crew_claim.slot is null or isempty(crew_claim.slot) or lower_inf(crew_claim.slot) or upper_inf(crew_claim.slot) then
    return null;
  end if;
  v_first := floor(extract(epoch from lower(crew_claim.slot)) / 900)::bigint;
  v_last := ceil(extract(epoch from upper(crew_claim.slot)) / 900)::bigint - 1;

  -- The preferred crew (the hold's or the appointment's own) is locked
  -- first, before any look: it is usually still free, and one check under
  -- the lock settles it.
  if crew_claim.prefer_crew_id is not null then
    for v_cell in v_first .. v_last loop
      perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('dbtool.booking.crew:' || crew_claim.prefer_crew_id::text || ':' || v_cell::text, 0));
    end loop;
    v_max := crew_claim.prefer_crew_id;
    if exists (
         select
         from private.free_crew_ids(crew_claim.business_id, crew_claim.slot,
                                    crew_claim.ignore_hold_id, crew_claim.ignore_appointment_id) as f(crew_id)
         where f.crew_id = crew_claim.prefer_crew_id) then
      return crew_claim.prefer_crew_id;
    end if;
  end if;

  for v_crew in
    select f.crew_id
    from private.free_crew_ids(crew_claim.business_id, crew_claim.slot,
                               crew_claim.ignore_hold_id, crew_claim.ignore_appointment_id) as f(crew_id)
    where f.crew_id is distinct from crew_claim.prefer_crew_id
  loop
    if v_max is null or v_crew > v_max then
      for v_cell in v_first .. v_last loop
        perform pg_catalog.pg_advisory_xact_lock(
          pg_catalog.hashtextextended('dbtool.booking.crew:' || v_crew::text || ':' || v_cell::text, 0));
      end loop;
      v_max := v_crew;
      v_locked := true;
    else
      v_locked := true;
      for v_cell in v_first .. v_last loop
        if not pg_catalog.pg_try_advisory_xact_lock(
             pg_catalog.hashtextextended('dbtool.booking.crew:' || v_crew::text || ':' || v_cell::text, 0)) then
          v_locked := false;
          exit;
        end if;
      end loop;
    end if;
    if v_locked and exists (
         select
         from private.free_crew_ids(crew_claim.business_id, crew_claim.slot,
                                    crew_claim.ignore_hold_id, crew_claim.ignore_appointment_id) as f(crew_id)
         where f.crew_id = v_crew) then
      return v_crew;
    end if;
  end loop;
  return null;
end
$$;
comment on function private.crew_claim(uuid, tstzrange, uuid, uuid, uuid) is
  'Picks a crew of business_id free for slot (private.free_crew_ids order, prefer_crew_id first), locks it for slot until commit (advisory locks per crew and quarter hour, waiting only in (crew id, quarter hour) order) and checks again under the lock; returns it, or null when no crew is free. Overlapping bookings of one crew queue; other crews and other times run in parallel.';
revoke execute on function private.crew_claim(uuid, tstzrange, uuid, uuid, uuid) from public, anon, authenticated, service_role;
