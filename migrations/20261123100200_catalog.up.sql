-- The public catalogue of a business: services, their price per vehicle type,
-- and add-ons. Readable by anyone (anon included); written directly by members
-- with catalog.manage (policies/<table>.sql).

-- ---------------------------------------------------------------------------
-- services
create table public.services (
  id               uuid not null default gen_random_uuid(),
  business_id      uuid not null,
  name             text not null,
  description      text,
  duration_minutes integer not null,
  active           boolean not null default true,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);
comment on table public.services is
  'A bookable service of a business (e.g. full detail). Public catalogue when active; members see inactive ones too. Written by members with catalog.manage. Cannot be deleted while an appointment references it: set active = false instead.';
alter table public.services enable row level security;
revoke all on table public.services from public, anon, authenticated;
grant select on table public.services to anon, authenticated;
grant insert (business_id, name, description, duration_minutes, active) on table public.services to authenticated;
grant update (name, description, duration_minutes, active) on table public.services to authenticated;
grant delete on table public.services to authenticated;
grant select, insert, update, delete on table public.services to service_role;

alter table public.services
  add constraint services_pkey primary key (id),
  -- target of (service_id, business_id) foreign keys: children stay in the service's business
  add constraint services_id_business_id_key unique (id, business_id),
  add constraint services_business_id_name_key unique (business_id, name),
  add constraint services_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint services_name_check check (char_length(btrim(name)) between 1 and 120),
  add constraint services_description_check check (description is null or char_length(description) <= 2000),
  add constraint services_duration_minutes_check check (duration_minutes between 15 and 600);
-- services_business_id_name_key covers lookups and the FK by business_id.

-- ---------------------------------------------------------------------------
-- service_prices
create table public.service_prices (
  service_id   uuid not null,
  business_id  uuid not null,
  vehicle_type text not null,
  price_cents  integer not null,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
comment on table public.service_prices is
  'The price of a service for one vehicle type, in the business''s currency (cents). business_id is the service''s (enforced by the composite foreign key) so policies need no join. A service without a price for a vehicle type cannot be booked for it.';
alter table public.service_prices enable row level security;
revoke all on table public.service_prices from public, anon, authenticated;
grant select on table public.service_prices to anon, authenticated;
grant insert (service_id, business_id, vehicle_type, price_cents) on table public.service_prices to authenticated;
grant update (price_cents) on table public.service_prices to authenticated;
grant delete on table public.service_prices to authenticated;
grant select, insert, update, delete on table public.service_prices to service_role;

alter table public.service_prices
  add constraint service_prices_pkey primary key (service_id, vehicle_type),
  add constraint service_prices_service_id_business_id_fkey foreign key (service_id, business_id)
    references public.services (id, business_id) on delete cascade,
  add constraint service_prices_vehicle_type_check check (vehicle_type in ('sedan', 'suv', 'truck', 'van')),
  add constraint service_prices_price_cents_check check (price_cents between 0 and 1000000);
create index service_prices_business_id_idx on public.service_prices (business_id);

-- ---------------------------------------------------------------------------
-- addons
create table public.addons (
  id               uuid not null default gen_random_uuid(),
  business_id      uuid not null,
  name             text not null,
  description      text,
  price_cents      integer not null,
  duration_minutes integer not null default 0,
  active           boolean not null default true,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);
comment on table public.addons is
  'An extra that can be added to any service of the business (same price for every vehicle type); adds price_cents and duration_minutes to a booking. Public when active. Written by members with catalog.manage.';
alter table public.addons enable row level security;
revoke all on table public.addons from public, anon, authenticated;
grant select on table public.addons to anon, authenticated;
grant insert (business_id, name, description, price_cents, duration_minutes, active) on table public.addons to authenticated;
grant update (name, description, price_cents, duration_minutes, active) on table public.addons to authenticated;
grant delete on table public.addons to authenticated;
grant select, insert, update, delete on table public.addons to service_role;

alter table public.addons
  add constraint addons_pkey primary key (id),
  add constraint addons_id_business_id_key unique (id, business_id),
  add constraint addons_business_id_name_key unique (business_id, name),
  add constraint addons_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint addons_name_check check (char_length(btrim(name)) between 1 and 120),
  add constraint addons_description_check check (description is null or char_length(description) <= 2000),
  add constraint addons_price_cents_check check (price_cents between 0 and 1000000),
  add constraint addons_duration_minutes_check check (duration_minutes between 0 and 240 and duration_minutes % 5 = 0);
