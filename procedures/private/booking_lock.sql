-- private.booking_lock(business_id, slot, customer_id): the booking lock.
-- Every procedure that takes capacity (hold_create, hold_confirm,
-- appointment_reschedule, payment_event_record) calls it before it asks
-- private.free_crew_ids, so "a crew is free" stays true until it commits.
--
-- Transaction-level advisory locks, always in this order (no deadlocks):
--   1. the customer of this business (the per-customer caps count their
--      holds and appointments), when customer_id is given;
--   2. every quarter hour (of the epoch: 900-second cells) the slot touches,
--      in ascending order: two slots that overlap share at least one cell
--      (a point in both lies in one cell), so they queue; bookings of other
--      quarter hours of the same business go ahead in parallel. (Hour cells
--      made four distinct 15-minute bookings of one hour queue: ~60% of a
--      booking's time was spent waiting here.)
-- Row locks (hold, appointment, session) come after it.
create or replace function private.booking_lock(business_id uuid, slot tstzrange, customer_id uuid default null)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_cell bigint;
begin
  if booking_lock.customer_id is not null then
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('dbtool.booking.customer:' || booking_lock.business_id::text || ':' || booking_lock.customer_id::text, 0));
  end if;
  if booking_lock.slot is null or isempty(booking_lock.slot) then
    return;
  end if;
  for v_cell in
    select g from generate_series(
      floor(extract(epoch from lower(booking_lock.slot)) / 900)::bigint,
      ceil(extract(epoch from upper(booking_lock.slot)) / 900)::bigint - 1) as g
  loop
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('dbtool.booking.quarter:' || booking_lock.business_id::text || ':' || v_cell::text, 0));
  end loop;
end
$$;
comment on function private.booking_lock(uuid, tstzrange, uuid) is
  'The booking lock: advisory locks on the customer (caps) and on every quarter hour (900-second cell) the slot touches, in that order; overlapping bookings of a business queue, others run in parallel. Held until commit.';
revoke execute on function private.booking_lock(uuid, tstzrange, uuid) from public, anon, authenticated, service_role;
