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
create or replace function private.booking_lock(business_id uuid, slot tstzrange, customer_id uuid default null)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if booking_lock.customer_id is not null then
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('dbtool.booking.customer:' || booking_lock.business_id::text || ':' || booking_lock.customer_id::text, 0));
  end if;
end
$$;
comment on function private.booking_lock(uuid, tstzrange, uuid) is
  'The customer part of the booking lock: an advisory lock on (business, customer) so the per-customer caps hold until commit; taken before any row lock. The crew a booking takes is locked by private.crew_claim. slot is unused (kept for the signature). Held until commit.';
revoke execute on function private.booking_lock(uuid, tstzrange, uuid) from public, anon, authenticated, service_role;
