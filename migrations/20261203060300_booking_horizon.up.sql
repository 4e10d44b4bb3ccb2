-- How far ahead a business takes bookings: a booking horizon in days (default
-- 365). hold_create and appointment_reschedule refuse slots beyond it with
-- P0001 booking_horizon_exceeded before any date arithmetic (extreme
-- timestamps such as year 200000 or 'infinity' included); availability_get
-- offers nothing beyond it.
alter table public.business_settings drop constraint business_settings_key_check;
alter table public.business_settings
  add constraint business_settings_key_check check (key in (
    'hold_minutes', 'max_active_holds_per_customer', 'max_upcoming_appointments_per_customer',
    'customer_cancel_cutoff_hours', 'customer_reschedule_cutoff_hours', 'booking_horizon_days')),
  add constraint business_settings_booking_horizon_days_check
    check (key <> 'booking_horizon_days' or value between 1 and 730);
