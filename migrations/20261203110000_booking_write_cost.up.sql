-- What a booking costs to write, measured (callgrind, instructions of the
-- server backend per booking, hold_create + hold_confirm, one client): about
-- a quarter went to CHECK constraints and a tenth to foreign-key checks.
--
-- CHECK constraints: PostgreSQL reads every CHECK of a table back from its
-- stored node tree and plans it again in each statement that writes the
-- table (PL/pgSQL's cached plans included), so the cost is the length of
-- that tree, not the test: a text constant is stored byte by byte. A booking
-- writes holds twice, appointments, its history, a notification and an audit
-- row, about 43 000 characters of trees read per booking. The long rules are
-- now one call of an IMMUTABLE PL/pgSQL function (compiled once per session)
-- with the very same expression, and the lists of allowed values are one
-- array constant instead of an ARRAY[...] of constants, kept in the CHECK so
-- tools (and readers) see the values a column takes. Names, SQLSTATE (23514)
-- and what passes are unchanged.
--
-- Foreign keys: each checks the parent row with a FOR KEY SHARE lock, a write
-- to a row every booking of the business shares. Six were implied by others
-- with the same outcome on delete:
--   holds.business_id      by (crew_id, business_id) -> crews, crews -> businesses (both cascade);
--   holds.customer_id      by (vehicle_id, customer_id) -> vehicles, vehicles -> auth.users (both cascade);
--   appointments.business_id by (crew_id, business_id) -> crews (restrict: a business with
--                          appointments still cannot be deleted, the error names that key);
--   appointments.customer_id by (vehicle_id, customer_id) -> vehicles (restrict: likewise for a user);
--   appointment_status_history.changed_by and appointments.cancelled_by: only ever null or
--                          the appointment's customer (the *_role_check constraints), whose
--                          appointments keep the user from being deleted, so their
--                          ON DELETE SET NULL never had a row to act on.
-- With them go the indexes that served only them, and notifications_customer_id_idx,
-- which no query reads (notifications_appointment_id_idx serves the composite key;
-- the policies read recipient_id and business_id). Every index a booking writes
-- is also a relation lock its transaction takes: about a hundred per booking,
-- past PostgreSQL 15's 16 fast-path slots, and the lock manager's partitions
-- were the booking backends' most frequent wait under load.

alter table public.holds
  drop constraint holds_business_id_fkey,
  drop constraint holds_customer_id_fkey;
alter table public.appointments
  drop constraint appointments_business_id_fkey,
  drop constraint appointments_customer_id_fkey;
alter table public.appointment_status_history
  drop constraint appointment_status_history_changed_by_fkey;
drop index public.appointment_status_history_changed_by_idx;
alter table public.appointments
  drop constraint appointments_cancelled_by_fkey;
drop index public.appointments_cancelled_by_idx;
drop index public.notifications_customer_id_idx;

-- The rules, one function each: invoker, no SET clause (a SET would cost a
-- configuration change per row), every name and operator schema-qualified so
-- the caller's search_path cannot change them. Not STRICT: a null result
-- passes, as it does for the expression itself. A CHECK calls its function
-- as the role that writes the row, so EXECUTE is granted to the API roles
-- (pure functions of their arguments, in a schema the API does not serve).
create function private.booking_slot_ok(slot tstzrange)
returns boolean
language plpgsql
immutable
parallel safe
as $$
begin
  return not pg_catalog.isempty(slot) and not pg_catalog.lower_inf(slot) and not pg_catalog.upper_inf(slot)
    and pg_catalog.lower_inc(slot) and not pg_catalog.upper_inc(slot)
    and pg_catalog.upper(slot) operator(pg_catalog.-) pg_catalog.lower(slot) operator(pg_catalog.>=) '00:15:00'::pg_catalog.interval
    and pg_catalog.upper(slot) operator(pg_catalog.-) pg_catalog.lower(slot) operator(pg_catalog.<=) '24:00:00'::pg_catalog.interval;
end
$$;
comment on function private.booking_slot_ok(tstzrange) is
  'CHECK holds_slot_check and appointments_slot_check: a non-empty [start, end) range with finite bounds, 15 minutes to 24 hours long.';

create function private.appointment_cancel_ok(status text, cancelled_at timestamptz, cancelled_by uuid, cancel_reason text)
returns boolean
language plpgsql
immutable
parallel safe
as $$
begin
  return (status operator(pg_catalog.=) 'cancelled') = (cancelled_at is not null)
    and (cancelled_at is not null or (cancelled_by is null and cancel_reason is null));
end
$$;
comment on function private.appointment_cancel_ok(text, timestamptz, uuid, text) is
  'CHECK appointments_cancelled_check: cancelled_at is set exactly when the status is cancelled; cancelled_by and cancel_reason only then.';

create function private.appointment_cancelled_by_ok(cancelled_by_role text, cancelled_at timestamptz, cancelled_by uuid, customer_id uuid)
returns boolean
language plpgsql
immutable
parallel safe
as $$
begin
  return (cancelled_by_role is null) = (cancelled_at is null)
    and (cancelled_by is null
         or (cancelled_by operator(pg_catalog.=) customer_id and cancelled_by_role operator(pg_catalog.=) 'customer'));
end
$$;
comment on function private.appointment_cancelled_by_ok(text, timestamptz, uuid, uuid) is
  'CHECK appointments_cancelled_by_role_check (with the list of roles, in the CHECK itself): a cancellation, and only a cancellation, names who cancelled, and a user id only when it is the customer''s own.';

create function private.status_changed_by_ok(changed_by_role text, changed_by uuid, customer_id uuid)
returns boolean
language plpgsql
immutable
parallel safe
as $$
begin
  return changed_by is null
    or (changed_by operator(pg_catalog.=) customer_id and changed_by_role operator(pg_catalog.=) 'customer');
end
$$;
comment on function private.status_changed_by_ok(text, uuid, uuid) is
  'CHECK appointment_status_history_changed_by_role_check (with the list of roles, in the CHECK itself): a user id only when it is the customer''s own.';

create function private.notification_audience_ok(audience text, recipient_id uuid, customer_id uuid)
returns boolean
language plpgsql
immutable
parallel safe
as $$
begin
  return (audience operator(pg_catalog.=) 'customer' and recipient_id is not null
          and recipient_id operator(pg_catalog.=) customer_id)
      or (audience operator(pg_catalog.=) 'business' and recipient_id is null);
end
$$;
comment on function private.notification_audience_ok(text, uuid, uuid) is
  'CHECK notifications_audience_check (with the list of audiences, in the CHECK itself): a customer notification goes to the appointment''s customer; a business notification has no recipient user.';

create function private.audit_rows_ok(operation text, old_row jsonb, new_row jsonb)
returns boolean
language plpgsql
immutable
parallel safe
as $$
begin
  return (operation operator(pg_catalog.=) 'INSERT' and old_row is null and new_row is not null)
      or (operation operator(pg_catalog.=) 'UPDATE' and old_row is not null and new_row is not null)
      or (operation operator(pg_catalog.=) 'DELETE' and old_row is not null and new_row is null);
end
$$;
comment on function private.audit_rows_ok(text, jsonb, jsonb) is
  'CHECK audit_log_rows_check: INSERT has only the new row, DELETE only the old one, UPDATE both.';

do $$
declare
  f text;
begin
  foreach f in array array[
    'private.booking_slot_ok(tstzrange)',
    'private.appointment_cancel_ok(text, timestamptz, uuid, text)',
    'private.appointment_cancelled_by_ok(text, timestamptz, uuid, uuid)',
    'private.status_changed_by_ok(text, uuid, uuid)',
    'private.notification_audience_ok(text, uuid, uuid)',
    'private.audit_rows_ok(text, jsonb, jsonb)']
  loop
    execute format('revoke execute on function %s from public', f);
    execute format('grant execute on function %s to anon, authenticated, service_role', f);
  end loop;
end
$$;

-- Same names, same rules, shorter trees. NOT VALID: each is checked on every
-- write from here on, and the rows already there are checked by the next
-- migration (VALIDATE CONSTRAINT: no lock that stops reads or writes), not
-- while this one holds its ACCESS EXCLUSIVE locks.
alter table public.holds
  drop constraint holds_slot_check,
  add constraint holds_slot_check check (private.booking_slot_ok(slot)) not valid,
  drop constraint holds_status_check,
  add constraint holds_status_check check (status = any ('{active,released,expired,confirmed}'::text[])) not valid;

alter table public.appointments
  drop constraint appointments_slot_check,
  add constraint appointments_slot_check check (private.booking_slot_ok(slot)) not valid,
  drop constraint appointments_cancelled_check,
  add constraint appointments_cancelled_check check (private.appointment_cancel_ok(status, cancelled_at, cancelled_by, cancel_reason)) not valid,
  drop constraint appointments_cancelled_by_role_check,
  add constraint appointments_cancelled_by_role_check
    check ((cancelled_by_role is null or cancelled_by_role = any ('{customer,staff,admin,system}'::text[]))
           and private.appointment_cancelled_by_ok(cancelled_by_role, cancelled_at, cancelled_by, customer_id)) not valid,
  drop constraint appointments_status_check,
  add constraint appointments_status_check
    check (status = any ('{confirmed,in_progress,completed,cancelled,no_show}'::text[])) not valid;

alter table public.appointment_status_history
  drop constraint appointment_status_history_changed_by_role_check,
  add constraint appointment_status_history_changed_by_role_check
    check (changed_by_role = any ('{customer,staff,admin,system}'::text[])
           and private.status_changed_by_ok(changed_by_role, changed_by, customer_id)) not valid,
  drop constraint appointment_status_history_from_status_check,
  add constraint appointment_status_history_from_status_check
    check (from_status is null or from_status = any ('{confirmed,in_progress,completed,cancelled,no_show}'::text[])) not valid,
  drop constraint appointment_status_history_to_status_check,
  add constraint appointment_status_history_to_status_check
    check (to_status = any ('{confirmed,in_progress,completed,cancelled,no_show}'::text[])) not valid;

alter table public.notifications
  drop constraint notifications_audience_check,
  add constraint notifications_audience_check
    check (audience = any ('{customer,business}'::text[]) and private.notification_audience_ok(audience, recipient_id, customer_id)) not valid,
  drop constraint notifications_kind_check,
  add constraint notifications_kind_check check (kind = any (
    '{appointment_created,appointment_confirmed,appointment_rescheduled,appointment_cancelled,appointment_status_changed,appointment_message,appointment_reminder}'::text[])) not valid,
  drop constraint notifications_status_check,
  add constraint notifications_status_check check (status = any ('{pending,sending,sent,failed}'::text[])) not valid;

alter table public.audit_log
  drop constraint audit_log_rows_check,
  add constraint audit_log_rows_check check (private.audit_rows_ok(operation, old_row, new_row)) not valid,
  drop constraint audit_log_operation_check,
  add constraint audit_log_operation_check check (operation = any ('{INSERT,UPDATE,DELETE}'::text[])) not valid;

-- Who writes them now (the appointments triggers became one; see
-- procedures/triggers/appointments_after_write.sql).
comment on table public.appointment_status_history is
  'One row per appointment creation, status change or reschedule, written by the appointments_after_write trigger (every write path) for the customer, the business and notification dispatchers to read. from_status/from_slot are null for the creation row.';
comment on table public.audit_log is
  'Who did what: one row per INSERT/UPDATE/DELETE on appointments, appointment_messages, payment_sessions, payment_events, credit_ledger, memberships, business_members and business_settings, written through private.audit_write by the audit_row trigger (appointments: appointments_after_write). actor_id is the JWT sub (null for service_role and SQL), actor_role the JWT role claim (else the session role). Partitioned by month on created_at (UTC): private.audit_log_default catches any row without a monthly partition, so an insert never fails; audit_partitions_ensure creates monthly partitions ahead. Append-only: no write grants for anyone, and the audit_log_append_only trigger refuses UPDATE and DELETE. Readable by platform admins, by owners for their business (audit.read) and by service_role.';

-- procedures/triggers/appointments_notify.sql and appointments_write_history.sql
-- are gone: appointments_after_write.sql replaces both (and the appointments
-- row of audit_row.sql's loop), dropping the three old triggers and their
-- functions in the same transaction that creates the new trigger, so no
-- write goes unrecorded in between. Here only dbtool's record of the two
-- files goes (dbtool migrate verify: "applied, but no longer in the folder").
do $$
begin
  if to_regclass('dbtool.repeatables') is not null then
    delete from dbtool.repeatables
    where path in ('procedures/triggers/appointments_notify.sql', 'procedures/triggers/appointments_write_history.sql');
  end if;
end
$$;
