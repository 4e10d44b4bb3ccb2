-- Notifications: an outbox of messages about appointments, written by
-- triggers (appointment created, rescheduled, cancelled, status changed,
-- message posted: addressed to the other party), by payment_event_record
-- (booking confirmed after payment) and by reminders_queue (one reminder per
-- appointment). Deliverers claim pending rows (notifications_claim,
-- FOR UPDATE SKIP LOCKED) and report the result (notification_mark); failed
-- deliveries are retried with exponential backoff up to max_attempts.

-- ---------------------------------------------------------------------------
-- notifications
create table public.notifications (
  id              uuid not null default gen_random_uuid(),
  business_id     uuid not null,
  customer_id     uuid not null,
  appointment_id  uuid not null,
  audience        text not null,
  recipient_id    uuid,
  kind            text not null,
  payload         jsonb not null default '{}'::jsonb,
  status          text not null default 'pending',
  attempts        integer not null default 0,
  max_attempts    integer not null default 5,
  next_attempt_at timestamptz not null default now(),
  claimed_at      timestamptz,
  sent_at         timestamptz,
  last_error      text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
comment on table public.notifications is
  'Outbox of notifications about an appointment. audience customer: recipient_id is the appointment''s customer; audience business: recipient_id is null and the business''s members receive it. status pending -> sending (claimed; attempts + 1) -> sent, or back to pending with next_attempt_at backed off (2^attempts minutes) until attempts reaches max_attempts -> failed. A row left in sending for 10 minutes is claimable again. Readable by its recipient (customer rows) or the business''s members (business rows) and platform admins; written only by triggers and procedures.';
alter table public.notifications enable row level security;
revoke all on table public.notifications from public, anon, authenticated;
grant select on table public.notifications to authenticated;
grant select, insert, update, delete on table public.notifications to service_role;

alter table public.notifications
  add constraint notifications_pkey primary key (id),
  add constraint notifications_appointment_id_fkey foreign key (appointment_id, business_id, customer_id)
    references public.appointments (id, business_id, customer_id) on delete cascade,
  add constraint notifications_recipient_id_fkey foreign key (recipient_id) references auth.users (id) on delete cascade,
  add constraint notifications_audience_check check (
    (audience = 'customer' and recipient_id is not null and recipient_id = customer_id)
    or (audience = 'business' and recipient_id is null)),
  add constraint notifications_kind_check check (kind in (
    'appointment_created', 'appointment_confirmed', 'appointment_rescheduled', 'appointment_cancelled',
    'appointment_status_changed', 'appointment_message', 'appointment_reminder')),
  add constraint notifications_payload_check check (jsonb_typeof(payload) = 'object'),
  add constraint notifications_status_check check (status in ('pending', 'sending', 'sent', 'failed')),
  add constraint notifications_attempts_check check (attempts between 0 and max_attempts),
  add constraint notifications_max_attempts_check check (max_attempts between 1 and 20),
  add constraint notifications_sent_check check ((status = 'sent') = (sent_at is not null)),
  add constraint notifications_claimed_check check (status <> 'sending' or claimed_at is not null),
  add constraint notifications_last_error_check check (last_error is null or char_length(last_error) <= 1000);
-- notifications_claim: the pending rows of one appointment.
create index notifications_appointment_id_idx on public.notifications (appointment_id, status);
-- A dispatcher's sweep: what is due.
create index notifications_due_idx on public.notifications (next_attempt_at) where status in ('pending', 'sending');
-- Policies: the recipient's rows, a business's rows.
create index notifications_recipient_id_idx on public.notifications (recipient_id, created_at) where recipient_id is not null;
create index notifications_business_id_idx on public.notifications (business_id, created_at);
create index notifications_customer_id_idx on public.notifications (customer_id);
-- One reminder per appointment, however often reminders_queue runs.
create unique index notifications_appointment_id_reminder_key
  on public.notifications (appointment_id) where kind = 'appointment_reminder';
