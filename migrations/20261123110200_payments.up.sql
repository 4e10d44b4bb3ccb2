-- Payments: one checkout session per hold (amount computed here from the
-- hold, never taken from a caller) and the provider's webhook events.
--
-- Flow: the server creates a checkout session at the provider for
-- holds.amount_due_cents, then records it (payment_session_record,
-- service_role). The provider's webhook calls payment_event_record
-- (service_role) with the event id, the session id, a status and the amount
-- it charged. The event is stored once per provider_event_id; business,
-- customer, hold and expected amount come from the session row. A
-- `succeeded` event whose amount matches turns the hold into a confirmed
-- appointment (private.appointment_from_hold, the same code as hold_confirm)
-- under the booking lock; if the slot was lost meanwhile (hold released,
-- slot taken after the hold expired, slot started) the session is marked
-- refund_required. An amount mismatch is recorded (amount_mismatch) and
-- nothing is confirmed.

-- ---------------------------------------------------------------------------
-- payment_sessions
create table public.payment_sessions (
  id                  uuid not null default gen_random_uuid(),
  hold_id             uuid,
  business_id         uuid not null,
  customer_id         uuid not null,
  provider_session_id text not null,
  amount_cents        integer not null,
  currency            text not null,
  status              text not null default 'pending',
  appointment_id      uuid,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);
comment on table public.payment_sessions is
  'A payment provider checkout session for one hold (one per hold). amount_cents and currency were taken from the hold (amount_due_cents) and the business when the session was recorded. status: pending -> succeeded (appointment_id set) | failed | amount_mismatch (charged amount differs: review and refund) | refund_required (paid but the slot was lost) -> refunded. Readable by its customer, members with billing.view and platform admins; written only by payment_session_record and payment_event_record. hold_id becomes null if the hold is deleted; the row survives.';
alter table public.payment_sessions enable row level security;
revoke all on table public.payment_sessions from public, anon, authenticated;
grant select on table public.payment_sessions to authenticated;
-- service_role reads; it writes only through the procedures (money, credits and coupons have one write path).
grant select on table public.payment_sessions to service_role;

alter table public.payment_sessions
  add constraint payment_sessions_pkey primary key (id),
  add constraint payment_sessions_provider_session_id_key unique (provider_session_id),
  -- One session per hold.
  add constraint payment_sessions_hold_id_key unique (hold_id),
  add constraint payment_sessions_hold_id_fkey foreign key (hold_id, business_id, customer_id)
    references public.holds (id, business_id, customer_id) on delete set null (hold_id),
  add constraint payment_sessions_business_id_fkey foreign key (business_id) references public.businesses (id) on delete restrict,
  add constraint payment_sessions_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete restrict,
  add constraint payment_sessions_appointment_id_fkey foreign key (appointment_id, business_id, customer_id)
    references public.appointments (id, business_id, customer_id) on delete restrict,
  add constraint payment_sessions_provider_session_id_check check (char_length(provider_session_id) between 1 and 255),
  add constraint payment_sessions_amount_cents_check check (amount_cents between 0 and 10000000),
  add constraint payment_sessions_currency_check check (currency ~ '^[A-Z]{3}$'),
  add constraint payment_sessions_status_check check (status in ('pending', 'succeeded', 'failed', 'amount_mismatch', 'refund_required', 'refunded')),
  add constraint payment_sessions_succeeded_check check ((status = 'succeeded') <= (appointment_id is not null));
create index payment_sessions_business_id_idx on public.payment_sessions (business_id, created_at);
create index payment_sessions_customer_id_idx on public.payment_sessions (customer_id, created_at);
create index payment_sessions_appointment_id_idx on public.payment_sessions (appointment_id) where appointment_id is not null;
-- Refund work queue.
create index payment_sessions_refund_required_idx on public.payment_sessions (created_at) where status in ('refund_required', 'amount_mismatch');

-- ---------------------------------------------------------------------------
-- payment_events
create table public.payment_events (
  id                    uuid not null default gen_random_uuid(),
  provider_event_id     text not null,
  payment_session_id    uuid not null,
  business_id           uuid not null,
  customer_id           uuid not null,
  status                text not null,
  amount_cents          integer not null,
  expected_amount_cents integer not null,
  outcome               text not null,
  appointment_id        uuid,
  created_at            timestamptz not null default now()
);
comment on table public.payment_events is
  'Payment provider webhook events, stored once per provider_event_id (replays return the stored row). status and amount_cents are what the provider reported; payment_session_id, business_id, customer_id and expected_amount_cents come from the database. outcome says what the event did: recorded (no change), failed, confirmed (appointment_id set), amount_mismatch, refund_required, refunded, ignored (the session was already settled). Readable by members with billing.view and platform admins; written only by payment_event_record.';
alter table public.payment_events enable row level security;
revoke all on table public.payment_events from public, anon, authenticated;
grant select on table public.payment_events to authenticated;
grant select on table public.payment_events to service_role;

alter table public.payment_events
  add constraint payment_events_pkey primary key (id),
  add constraint payment_events_provider_event_id_key unique (provider_event_id),
  add constraint payment_events_payment_session_id_fkey foreign key (payment_session_id) references public.payment_sessions (id) on delete restrict,
  add constraint payment_events_business_id_fkey foreign key (business_id) references public.businesses (id) on delete restrict,
  add constraint payment_events_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete restrict,
  add constraint payment_events_appointment_id_fkey foreign key (appointment_id, business_id, customer_id)
    references public.appointments (id, business_id, customer_id) on delete restrict,
  add constraint payment_events_provider_event_id_check check (char_length(provider_event_id) between 1 and 255),
  add constraint payment_events_status_check check (status in ('pending', 'succeeded', 'failed', 'refunded')),
  add constraint payment_events_amount_cents_check check (amount_cents between 0 and 100000000),
  add constraint payment_events_outcome_check check (outcome in ('recorded', 'failed', 'confirmed', 'amount_mismatch', 'refund_required', 'refunded', 'ignored'));
create index payment_events_payment_session_id_idx on public.payment_events (payment_session_id, created_at);
create index payment_events_business_id_idx on public.payment_events (business_id, created_at);
create index payment_events_customer_id_idx on public.payment_events (customer_id);
create index payment_events_appointment_id_idx on public.payment_events (appointment_id) where appointment_id is not null;
