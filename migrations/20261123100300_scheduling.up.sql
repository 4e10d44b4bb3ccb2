-- Scheduling: when a business works (working_hours), who does the jobs
-- (crews) and when they cannot (blackouts). Written directly by members with
-- schedule.manage.
--
-- Capacity model: a crew does one job at a time. A business's capacity at an
-- instant is the number of its active crews that are free then (not blacked
-- out, no confirmed/in-progress appointment, no live hold). Every hold and
-- appointment carries the crew it occupies; appointments_crew_id_slot_excl
-- makes a double-booked crew impossible.

-- btree_gist: uuid equality inside GiST indexes (exclusion constraints, the
-- (business_id, range) indexes of the availability path).
create extension if not exists btree_gist with schema extensions;

-- ---------------------------------------------------------------------------
-- working_hours
create table public.working_hours (
  id          uuid not null default gen_random_uuid(),
  business_id uuid not null,
  weekday     smallint not null,
  opens       time not null,
  closes      time not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
comment on table public.working_hours is
  'Opening intervals of a business per weekday (0 = Sunday ... 6 = Saturday, like extract(dow)), in the business''s time zone, on quarter-hour boundaries; closes may be 24:00. Several intervals per day are allowed (overlapping ones are merged). Public; written by members with schedule.manage.';
alter table public.working_hours enable row level security;
revoke all on table public.working_hours from public, anon, authenticated;
grant select on table public.working_hours to anon, authenticated;
grant insert (business_id, weekday, opens, closes) on table public.working_hours to authenticated;
grant update (weekday, opens, closes) on table public.working_hours to authenticated;
grant delete on table public.working_hours to authenticated;
grant select, insert, update, delete on table public.working_hours to service_role;

alter table public.working_hours
  add constraint working_hours_pkey primary key (id),
  add constraint working_hours_business_id_weekday_opens_key unique (business_id, weekday, opens),
  add constraint working_hours_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint working_hours_weekday_check check (weekday between 0 and 6),
  add constraint working_hours_opens_closes_check check (opens < closes),
  add constraint working_hours_quarter_hour_check check (
    extract(minute from opens)::integer % 15 = 0 and extract(second from opens) = 0
    and extract(minute from closes)::integer % 15 = 0 and extract(second from closes) = 0);
-- working_hours_business_id_weekday_opens_key serves availability and the FK.

-- ---------------------------------------------------------------------------
-- crews
create table public.crews (
  id          uuid not null default gen_random_uuid(),
  business_id uuid not null,
  name        text not null,
  active      boolean not null default true,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
comment on table public.crews is
  'A team that does one job at a time. Only active crews take new bookings. Readable by the business''s members; written by members with schedule.manage. Cannot be deleted while an appointment references it: set active = false instead.';
alter table public.crews enable row level security;
revoke all on table public.crews from public, anon, authenticated;
grant select on table public.crews to authenticated;
grant insert (business_id, name, active) on table public.crews to authenticated;
grant update (name, active) on table public.crews to authenticated;
grant delete on table public.crews to authenticated;
grant select, insert, update, delete on table public.crews to service_role;

alter table public.crews
  add constraint crews_pkey primary key (id),
  add constraint crews_id_business_id_key unique (id, business_id),
  add constraint crews_business_id_name_key unique (business_id, name),
  add constraint crews_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint crews_name_check check (char_length(btrim(name)) between 1 and 60);
-- crews_business_id_name_key serves the FK; free-crew lookups filter by business.
create index crews_business_id_active_idx on public.crews (business_id) where active;

-- ---------------------------------------------------------------------------
-- blackouts
create table public.blackouts (
  id          uuid not null default gen_random_uuid(),
  business_id uuid not null,
  crew_id     uuid,
  during      tstzrange not null,
  reason      text,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
comment on table public.blackouts is
  'A period when the whole business (crew_id null) or one crew takes no new bookings (holiday, vehicle repair). Does not cancel existing appointments. Readable by members; written by members with schedule.manage.';
alter table public.blackouts enable row level security;
revoke all on table public.blackouts from public, anon, authenticated;
grant select on table public.blackouts to authenticated;
grant insert (business_id, crew_id, during, reason) on table public.blackouts to authenticated;
grant update (crew_id, during, reason) on table public.blackouts to authenticated;
grant delete on table public.blackouts to authenticated;
grant select, insert, update, delete on table public.blackouts to service_role;

alter table public.blackouts
  add constraint blackouts_pkey primary key (id),
  add constraint blackouts_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint blackouts_crew_id_business_id_fkey foreign key (crew_id, business_id)
    references public.crews (id, business_id) on delete cascade,
  add constraint blackouts_during_check check (
    not isempty(during) and not lower_inf(during) and not upper_inf(during)
    and lower_inc(during) and not upper_inc(during)),
  add constraint blackouts_reason_check check (reason is null or char_length(reason) <= 500);
-- Availability: blackouts of a business overlapping a slot (business-wide and per crew).
create index blackouts_business_id_during_idx on public.blackouts using gist (business_id, during);
create index blackouts_crew_id_during_idx on public.blackouts using gist (crew_id, during) where crew_id is not null;
