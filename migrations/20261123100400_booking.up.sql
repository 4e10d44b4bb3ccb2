-- Booking lifecycle: holds (a slot reserved for a few minutes), appointments,
-- their add-ons, status history and message threads. Clients only read these
-- tables; every write goes through a procedure (procedures/) or a trigger.
--
-- Denormalised keys: child rows carry business_id and customer_id of their
-- parent, enforced by composite foreign keys, so each policy is a plain
-- indexed comparison (no joins, no recursion).

-- ---------------------------------------------------------------------------
-- holds
create table public.holds (
  id          uuid not null default gen_random_uuid(),
  business_id uuid not null,
  customer_id uuid not null,
  service_id  uuid not null,
  vehicle_id  uuid not null,
  address_id  uuid not null,
  crew_id     uuid not null,
  slot        tstzrange not null,
  price_cents integer not null,
  status      text not null default 'active',
  expires_at  timestamptz not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
comment on table public.holds is
  'A slot reserved for a customer for hold_minutes while they confirm (or pay). Occupies crew_id for slot while status = active and expires_at is in the future. price_cents is computed by hold_create (service price for the vehicle type + add-ons). Written only by hold_create, hold_release, hold_confirm and holds_expire.';
alter table public.holds enable row level security;
revoke all on table public.holds from public, anon, authenticated;
grant select on table public.holds to authenticated;
grant select, insert, update, delete on table public.holds to service_role;

alter table public.holds
  add constraint holds_pkey primary key (id),
  add constraint holds_id_business_id_customer_id_key unique (id, business_id, customer_id),
  add constraint holds_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint holds_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete cascade,
  add constraint holds_service_id_business_id_fkey foreign key (service_id, business_id)
    references public.services (id, business_id) on delete cascade,
  add constraint holds_vehicle_id_customer_id_fkey foreign key (vehicle_id, customer_id)
    references public.vehicles (id, user_id) on delete cascade,
  add constraint holds_address_id_customer_id_fkey foreign key (address_id, customer_id)
    references public.addresses (id, user_id) on delete cascade,
  add constraint holds_crew_id_business_id_fkey foreign key (crew_id, business_id)
    references public.crews (id, business_id) on delete cascade,
  add constraint holds_status_check check (status in ('active', 'released', 'expired', 'confirmed')),
  add constraint holds_slot_check check (
    not isempty(slot) and not lower_inf(slot) and not upper_inf(slot)
    and lower_inc(slot) and not upper_inc(slot)
    and upper(slot) - lower(slot) between interval '15 minutes' and interval '24 hours'),
  add constraint holds_price_cents_check check (price_cents between 0 and 10000000),
  add constraint holds_expires_at_check check (expires_at > created_at);
create index holds_business_id_idx on public.holds (business_id);
-- Policy (customer_id = auth.uid()), per-customer caps, FK.
create index holds_customer_id_business_id_idx on public.holds (customer_id, business_id);
-- Conflict checks: holds of a crew overlapping a slot (also serves the crew FK).
create index holds_crew_id_slot_idx on public.holds using gist (crew_id, slot);
create index holds_service_id_idx on public.holds (service_id);
create index holds_vehicle_id_idx on public.holds (vehicle_id);
create index holds_address_id_idx on public.holds (address_id);
-- holds_expire(): the sweep.
create index holds_expires_at_idx on public.holds (expires_at) where status = 'active';

-- ---------------------------------------------------------------------------
-- hold_addons
create table public.hold_addons (
  hold_id          uuid not null,
  addon_id         uuid not null,
  business_id      uuid not null,
  customer_id      uuid not null,
  price_cents      integer not null,
  duration_minutes integer not null
);
comment on table public.hold_addons is
  'Add-ons chosen for a hold, with the price and duration they had when the hold was made. Written only by hold_create.';
alter table public.hold_addons enable row level security;
revoke all on table public.hold_addons from public, anon, authenticated;
grant select on table public.hold_addons to authenticated;
grant select, insert, update, delete on table public.hold_addons to service_role;

alter table public.hold_addons
  add constraint hold_addons_pkey primary key (hold_id, addon_id),
  add constraint hold_addons_hold_id_fkey foreign key (hold_id, business_id, customer_id)
    references public.holds (id, business_id, customer_id) on delete cascade,
  add constraint hold_addons_addon_id_business_id_fkey foreign key (addon_id, business_id)
    references public.addons (id, business_id) on delete cascade,
  add constraint hold_addons_price_cents_check check (price_cents between 0 and 1000000),
  add constraint hold_addons_duration_minutes_check check (duration_minutes between 0 and 240);
create index hold_addons_addon_id_idx on public.hold_addons (addon_id);
create index hold_addons_business_id_idx on public.hold_addons (business_id);
create index hold_addons_customer_id_idx on public.hold_addons (customer_id);

-- ---------------------------------------------------------------------------
-- appointments
create table public.appointments (
  id            uuid not null default gen_random_uuid(),
  business_id   uuid not null,
  customer_id   uuid not null,
  service_id    uuid not null,
  vehicle_id    uuid not null,
  address_id    uuid not null,
  crew_id       uuid not null,
  hold_id       uuid,
  slot          tstzrange not null,
  price_cents   integer not null,
  currency      text not null,
  status        text not null default 'confirmed',
  cancelled_at  timestamptz,
  cancelled_by  uuid,
  cancel_reason text,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
comment on table public.appointments is
  'A booked job: a crew at the customer''s address for slot. status moves confirmed -> in_progress -> completed, confirmed -> no_show, confirmed -> cancelled (enforced by the appointments_validate_status trigger on every write path); every status or slot change writes appointment_status_history. A crew never has two overlapping confirmed/in-progress appointments (appointments_crew_id_slot_excl). Written only by procedures.';
alter table public.appointments enable row level security;
revoke all on table public.appointments from public, anon, authenticated;
grant select on table public.appointments to authenticated;
grant select, insert, update, delete on table public.appointments to service_role;

alter table public.appointments
  add constraint appointments_pkey primary key (id),
  add constraint appointments_id_business_id_customer_id_key unique (id, business_id, customer_id),
  add constraint appointments_hold_id_key unique (hold_id),
  add constraint appointments_business_id_fkey foreign key (business_id) references public.businesses (id) on delete restrict,
  add constraint appointments_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete restrict,
  add constraint appointments_service_id_business_id_fkey foreign key (service_id, business_id)
    references public.services (id, business_id) on delete restrict,
  add constraint appointments_vehicle_id_customer_id_fkey foreign key (vehicle_id, customer_id)
    references public.vehicles (id, user_id) on delete restrict,
  add constraint appointments_address_id_customer_id_fkey foreign key (address_id, customer_id)
    references public.addresses (id, user_id) on delete restrict,
  add constraint appointments_crew_id_business_id_fkey foreign key (crew_id, business_id)
    references public.crews (id, business_id) on delete restrict,
  add constraint appointments_hold_id_fkey foreign key (hold_id) references public.holds (id) on delete set null,
  add constraint appointments_cancelled_by_fkey foreign key (cancelled_by) references auth.users (id) on delete set null,
  add constraint appointments_status_check check (status in ('confirmed', 'in_progress', 'completed', 'cancelled', 'no_show')),
  add constraint appointments_slot_check check (
    not isempty(slot) and not lower_inf(slot) and not upper_inf(slot)
    and lower_inc(slot) and not upper_inc(slot)
    and upper(slot) - lower(slot) between interval '15 minutes' and interval '24 hours'),
  add constraint appointments_price_cents_check check (price_cents between 0 and 10000000),
  add constraint appointments_currency_check check (currency ~ '^[A-Z]{3}$'),
  add constraint appointments_cancelled_check check (
    (status = 'cancelled') = (cancelled_at is not null)
    and (cancelled_at is not null or (cancelled_by is null and cancel_reason is null))),
  add constraint appointments_cancel_reason_check check (cancel_reason is null or char_length(cancel_reason) <= 500),
  add constraint appointments_crew_id_slot_excl exclude using gist (crew_id with =, slot with &&)
    where (status in ('confirmed', 'in_progress'));
-- Staff schedule of a business by time (also serves the business FK).
create index appointments_business_id_start_idx on public.appointments (business_id, lower(slot));
-- Policy (customer_id = auth.uid()), upcoming-appointment cap, customer FK.
create index appointments_customer_id_start_idx on public.appointments (customer_id, lower(slot));
create index appointments_service_id_idx on public.appointments (service_id);
create index appointments_vehicle_id_idx on public.appointments (vehicle_id);
create index appointments_address_id_idx on public.appointments (address_id);
create index appointments_crew_id_idx on public.appointments (crew_id);
create index appointments_cancelled_by_idx on public.appointments (cancelled_by) where cancelled_by is not null;

-- ---------------------------------------------------------------------------
-- appointment_addons
create table public.appointment_addons (
  id               uuid not null default gen_random_uuid(),
  appointment_id   uuid not null,
  business_id      uuid not null,
  customer_id      uuid not null,
  addon_id         uuid,
  name             text not null,
  price_cents      integer not null,
  duration_minutes integer not null
);
comment on table public.appointment_addons is
  'Add-ons booked with an appointment, copied from the hold with name, price and duration at booking time (addon_id becomes null if the add-on is deleted; the line survives). Written only by hold_confirm.';
alter table public.appointment_addons enable row level security;
revoke all on table public.appointment_addons from public, anon, authenticated;
grant select on table public.appointment_addons to authenticated;
grant select, insert, update, delete on table public.appointment_addons to service_role;

alter table public.appointment_addons
  add constraint appointment_addons_pkey primary key (id),
  add constraint appointment_addons_appointment_id_addon_id_key unique (appointment_id, addon_id),
  add constraint appointment_addons_appointment_id_fkey foreign key (appointment_id, business_id, customer_id)
    references public.appointments (id, business_id, customer_id) on delete cascade,
  add constraint appointment_addons_addon_id_business_id_fkey foreign key (addon_id, business_id)
    references public.addons (id, business_id) on delete set null (addon_id),
  add constraint appointment_addons_name_check check (char_length(name) between 1 and 120),
  add constraint appointment_addons_price_cents_check check (price_cents between 0 and 1000000),
  add constraint appointment_addons_duration_minutes_check check (duration_minutes between 0 and 240);
create index appointment_addons_addon_id_idx on public.appointment_addons (addon_id) where addon_id is not null;
create index appointment_addons_business_id_idx on public.appointment_addons (business_id);
create index appointment_addons_customer_id_idx on public.appointment_addons (customer_id);

-- ---------------------------------------------------------------------------
-- appointment_status_history
create table public.appointment_status_history (
  id             bigint generated always as identity,
  appointment_id uuid not null,
  business_id    uuid not null,
  customer_id    uuid not null,
  from_status    text,
  to_status      text not null,
  from_slot      tstzrange,
  to_slot        tstzrange not null,
  changed_by     uuid,
  note           text,
  created_at     timestamptz not null default now()
);
comment on table public.appointment_status_history is
  'One row per appointment creation, status change or reschedule, written by the appointments_write_history trigger (every write path) for the customer, the business and notification dispatchers to read. from_status/from_slot are null for the creation row.';
alter table public.appointment_status_history enable row level security;
revoke all on table public.appointment_status_history from public, anon, authenticated;
grant select on table public.appointment_status_history to authenticated;
grant select, insert, update, delete on table public.appointment_status_history to service_role;

alter table public.appointment_status_history
  add constraint appointment_status_history_pkey primary key (id),
  add constraint appointment_status_history_appointment_id_fkey foreign key (appointment_id, business_id, customer_id)
    references public.appointments (id, business_id, customer_id) on delete cascade,
  add constraint appointment_status_history_changed_by_fkey foreign key (changed_by) references auth.users (id) on delete set null,
  add constraint appointment_status_history_from_status_check check (from_status is null or from_status in ('confirmed', 'in_progress', 'completed', 'cancelled', 'no_show')),
  add constraint appointment_status_history_to_status_check check (to_status in ('confirmed', 'in_progress', 'completed', 'cancelled', 'no_show')),
  add constraint appointment_status_history_note_check check (note is null or char_length(note) <= 2000);
create index appointment_status_history_appointment_id_idx on public.appointment_status_history (appointment_id, created_at);
create index appointment_status_history_business_id_idx on public.appointment_status_history (business_id, created_at);
create index appointment_status_history_customer_id_idx on public.appointment_status_history (customer_id, created_at);
create index appointment_status_history_changed_by_idx on public.appointment_status_history (changed_by) where changed_by is not null;

-- ---------------------------------------------------------------------------
-- appointment_messages
create table public.appointment_messages (
  id             uuid not null default gen_random_uuid(),
  appointment_id uuid not null,
  business_id    uuid not null,
  customer_id    uuid not null,
  author_id      uuid,
  author_role    text not null,
  body           text not null,
  created_at     timestamptz not null default now()
);
comment on table public.appointment_messages is
  'The message thread of an appointment between its customer and the business''s staff. Readable by both sides; written only by appointment_message_post. author_id becomes null if the author''s account is deleted; the message survives.';
alter table public.appointment_messages enable row level security;
revoke all on table public.appointment_messages from public, anon, authenticated;
grant select on table public.appointment_messages to authenticated;
grant select, insert, update, delete on table public.appointment_messages to service_role;

alter table public.appointment_messages
  add constraint appointment_messages_pkey primary key (id),
  add constraint appointment_messages_appointment_id_fkey foreign key (appointment_id, business_id, customer_id)
    references public.appointments (id, business_id, customer_id) on delete cascade,
  add constraint appointment_messages_author_id_fkey foreign key (author_id) references auth.users (id) on delete set null,
  add constraint appointment_messages_author_role_check check (author_role in ('customer', 'staff')),
  add constraint appointment_messages_body_check check (char_length(btrim(body)) >= 1 and char_length(body) <= 2000);
create index appointment_messages_appointment_id_idx on public.appointment_messages (appointment_id, created_at);
create index appointment_messages_business_id_idx on public.appointment_messages (business_id, created_at);
create index appointment_messages_customer_id_idx on public.appointment_messages (customer_id, created_at);
create index appointment_messages_author_id_idx on public.appointment_messages (author_id) where author_id is not null;
