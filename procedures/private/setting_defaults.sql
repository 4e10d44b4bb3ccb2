-- The default of every business setting: the one place defaults live
-- (ranges live in the business_settings_<key>_check constraints).
create or replace function private.setting_defaults(out key text, out value integer)
returns setof record
language sql
immutable
parallel safe
set search_path = ''
as $$
  values
    ('hold_minutes', 15),
    ('max_active_holds_per_customer', 3),
    ('max_upcoming_appointments_per_customer', 5),
    ('customer_cancel_cutoff_hours', 24),
    ('customer_reschedule_cutoff_hours', 24),
    ('booking_horizon_days', 365)
$$;
comment on function private.setting_defaults() is
  'Every business setting key with its default value. business_create seeds these rows; private.setting falls back to them.';
revoke execute on function private.setting_defaults() from public, anon, authenticated, service_role;
