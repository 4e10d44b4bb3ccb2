-- private.booking_lock(business_id, slot, customer_id): the customer part of
-- the booking lock. Every procedure that takes capacity for a customer
-- (hold_create, hold_confirm, payment_event_record) calls it first, before
-- any row lock, so the per-customer caps (which count their holds and
-- appointments at the business) stay true until it commits.
--
-- The crew a booking takes is locked by private.crew_claim, which picks the
-- crew: bookings of other crews, or of slots that do not overlap, no longer
-- queue on the business. slot is not used any more (kept so the signature
-- does not change); pass the slot being booked, or null.
--
-- Lock order everywhere (no deadlocks): this customer lock, then row locks
-- (hold, appointment, session, coupon), then private.crew_claim's crew
-- locks, which never wait out of their canonical order.
--
-- SQL, SECURITY INVOKER, no SET clause: the planner inlines it into the
-- caller's statement (PERFORM private.booking_lock(...) takes the lock with
-- no nested call and no statement of its own). It reads no table, and
-- pg_advisory_xact_lock needs no privilege; every name and operator is
-- schema-qualified, so the caller's search_path cannot change it.
create or replace function private.booking_lock(business_id uuid, slot tstzrange, customer_id uuid default null)
returns void
language sql
volatile
as $$
  select case when booking_lock.customer_id is not null then
    pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
      'dbtool.booking.customer:' operator(pg_catalog.||) booking_lock.business_id::text
        operator(pg_catalog.||) ':' operator(pg_catalog.||) booking_lock.customer_id::text, 0))
  end
$$;
comment on function private.booking_lock(uuid, tstzrange, uuid) is
  'The customer part of the booking lock: an advisory lock on (business, customer) so the per-customer caps hold until commit; taken before any row lock (nothing when customer_id is null). The crew a booking takes is locked by private.crew_claim. slot is unused (kept for the signature). Held until commit. Inlinable (SQL, invoker, no SET).';
revoke execute on function private.booking_lock(uuid, tstzrange, uuid) from public, anon, authenticated, service_role;
