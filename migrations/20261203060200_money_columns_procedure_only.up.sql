-- Money columns have one write path for every role, service_role included:
-- prices, discounts and currency of holds and appointments (and of the
-- add-ons copied onto them) are computed by hold_create, coupon_redeem and
-- hold_confirm / payment_event_record, never written directly. service_role
-- keeps what operations need on the booking rows themselves (status, crew,
-- slot, expiry, cancellation), all still checked by the status and overlap
-- constraints and triggers; it can no longer create bookings or add-on rows
-- directly (their prices would be whatever the caller says).
revoke insert, update on table public.holds, public.hold_addons,
  public.appointments, public.appointment_addons from service_role;
grant update (status, crew_id, slot, expires_at, created_at, updated_at)
  on table public.holds to service_role;
grant update (status, crew_id, slot, cancelled_at, cancelled_by, cancel_reason, updated_at)
  on table public.appointments to service_role;
