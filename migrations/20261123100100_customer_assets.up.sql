-- Customer-owned rows: vehicles and service addresses. Customers write them
-- directly under RLS; staff of a business read the ones used by its bookings.

-- ---------------------------------------------------------------------------
-- vehicles
create table public.vehicles (
  id           uuid not null default gen_random_uuid(),
  user_id      uuid not null default auth.uid(),
  vehicle_type text not null,
  make         text not null,
  model        text not null,
  plate        text not null,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
comment on table public.vehicles is
  'A customer''s vehicle; its vehicle_type picks the service price. Owned by user_id (written by the owner under RLS). Cannot be deleted while an appointment references it (history).';
alter table public.vehicles enable row level security;
revoke all on table public.vehicles from public, anon, authenticated;
grant select, delete on table public.vehicles to authenticated;
grant insert (user_id, vehicle_type, make, model, plate) on table public.vehicles to authenticated;
grant update (vehicle_type, make, model, plate) on table public.vehicles to authenticated;
grant select, insert, update, delete on table public.vehicles to service_role;

alter table public.vehicles
  add constraint vehicles_pkey primary key (id),
  -- target of the (vehicle_id, customer_id) foreign keys: a booked vehicle is the customer's own
  add constraint vehicles_id_user_id_key unique (id, user_id),
  add constraint vehicles_user_id_plate_key unique (user_id, plate),
  add constraint vehicles_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  add constraint vehicles_vehicle_type_check check (vehicle_type in ('sedan', 'suv', 'truck', 'van')),
  add constraint vehicles_make_check check (char_length(btrim(make)) between 1 and 60),
  add constraint vehicles_model_check check (char_length(btrim(model)) between 1 and 60),
  add constraint vehicles_plate_check check (plate = upper(btrim(plate)) and char_length(plate) between 1 and 16);
-- vehicles_user_id_plate_key covers lookups and the FK by user_id.

-- ---------------------------------------------------------------------------
-- addresses
create table public.addresses (
  id          uuid not null default gen_random_uuid(),
  user_id     uuid not null default auth.uid(),
  label       text,
  line1       text not null,
  line2       text,
  city        text not null,
  postal_code text not null,
  country     text not null default 'DE',
  lat         double precision,
  lng         double precision,
  is_default  boolean not null default false,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
comment on table public.addresses is
  'A place where a customer wants the service done. Owned by user_id (written by the owner under RLS); at most one is_default per customer. Cannot be deleted while an appointment references it (history).';
alter table public.addresses enable row level security;
revoke all on table public.addresses from public, anon, authenticated;
grant select, delete on table public.addresses to authenticated;
grant insert (user_id, label, line1, line2, city, postal_code, country, lat, lng, is_default) on table public.addresses to authenticated;
grant update (label, line1, line2, city, postal_code, country, lat, lng, is_default) on table public.addresses to authenticated;
grant select, insert, update, delete on table public.addresses to service_role;

alter table public.addresses
  add constraint addresses_pkey primary key (id),
  add constraint addresses_id_user_id_key unique (id, user_id),
  add constraint addresses_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  add constraint addresses_label_check check (label is null or char_length(btrim(label)) between 1 and 40),
  add constraint addresses_line1_check check (char_length(btrim(line1)) between 1 and 200),
  add constraint addresses_line2_check check (line2 is null or char_length(line2) <= 200),
  add constraint addresses_city_check check (char_length(btrim(city)) between 1 and 100),
  add constraint addresses_postal_code_check check (char_length(btrim(postal_code)) between 1 and 16),
  add constraint addresses_country_check check (country ~ '^[A-Z]{2}$'),
  add constraint addresses_lat_check check (lat is null or lat between -90 and 90),
  add constraint addresses_lng_check check (lng is null or lng between -180 and 180),
  add constraint addresses_lat_lng_check check ((lat is null) = (lng is null));
create index addresses_user_id_idx on public.addresses (user_id);
-- One default address per customer.
create unique index addresses_user_id_default_key on public.addresses (user_id) where is_default;
