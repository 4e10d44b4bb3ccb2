-- The CHECKs migration 20261203110000 re-added NOT VALID (same rules, shorter
-- trees) are checked against the rows already there, under SHARE UPDATE
-- EXCLUSIVE locks: reads and writes go on meanwhile (writes are checked by
-- the constraints already).
alter table public.holds validate constraint holds_slot_check;
alter table public.holds validate constraint holds_status_check;
alter table public.appointments validate constraint appointments_slot_check;
alter table public.appointments validate constraint appointments_cancelled_check;
alter table public.appointments validate constraint appointments_cancelled_by_role_check;
alter table public.appointments validate constraint appointments_status_check;
alter table public.appointment_status_history validate constraint appointment_status_history_changed_by_role_check;
alter table public.appointment_status_history validate constraint appointment_status_history_from_status_check;
alter table public.appointment_status_history validate constraint appointment_status_history_to_status_check;
alter table public.notifications validate constraint notifications_audience_check;
alter table public.notifications validate constraint notifications_kind_check;
alter table public.notifications validate constraint notifications_status_check;
alter table public.audit_log validate constraint audit_log_rows_check;
alter table public.audit_log validate constraint audit_log_operation_check;
