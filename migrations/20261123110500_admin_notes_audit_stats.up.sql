-- Admin notes on customers, the audit log (partitioned by month), the
-- per-business daily statistics (a materialized view clients cannot read
-- directly) and the scheduled jobs (pg_cron, when present).

-- ---------------------------------------------------------------------------
-- admin_notes
create table public.admin_notes (
  id          uuid not null default gen_random_uuid(),
  business_id uuid not null,
  customer_id uuid not null,
  author_id   uuid,
  body        text not null,
  created_at  timestamptz not null default now()
);
comment on table public.admin_notes is
  'Internal notes of a business about one of its customers (someone with a hold, appointment or membership there). Never shown to the customer. Readable by members with notes.manage and platform admins; written only by admin_note_add. author_id becomes null if the author''s account is deleted; the note survives.';
alter table public.admin_notes enable row level security;
revoke all on table public.admin_notes from public, anon, authenticated;
grant select on table public.admin_notes to authenticated;
grant select, insert, update, delete on table public.admin_notes to service_role;

alter table public.admin_notes
  add constraint admin_notes_pkey primary key (id),
  add constraint admin_notes_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint admin_notes_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete cascade,
  add constraint admin_notes_author_id_fkey foreign key (author_id) references auth.users (id) on delete set null,
  add constraint admin_notes_body_check check (char_length(btrim(body)) >= 1 and char_length(body) <= 4000);
create index admin_notes_business_id_customer_id_idx on public.admin_notes (business_id, customer_id, created_at);
create index admin_notes_customer_id_idx on public.admin_notes (customer_id);
create index admin_notes_author_id_idx on public.admin_notes (author_id) where author_id is not null;

-- ---------------------------------------------------------------------------
-- audit_log (partitioned by month on created_at)
create table public.audit_log (
  id          bigint generated always as identity,
  created_at  timestamptz not null default now(),
  actor_id    uuid,
  actor_role  text,
  business_id uuid,
  table_name  text not null,
  operation   text not null,
  old_row     jsonb,
  new_row     jsonb,
  constraint audit_log_pkey primary key (id, created_at),
  constraint audit_log_operation_check check (operation in ('INSERT', 'UPDATE', 'DELETE')),
  constraint audit_log_rows_check check (
    (operation = 'INSERT' and old_row is null and new_row is not null)
    or (operation = 'UPDATE' and old_row is not null and new_row is not null)
    or (operation = 'DELETE' and old_row is not null and new_row is null))
) partition by range (created_at);
comment on table public.audit_log is
  'Who did what: one row per INSERT/UPDATE/DELETE on appointments, payment_sessions, payment_events, credit_ledger, memberships, business_members and business_settings, written by the audit_row trigger. actor_id is the JWT sub (null for service_role and SQL), actor_role the JWT role claim (else the session role). Partitioned by month on created_at (UTC): private.audit_log_default catches any row without a monthly partition, so an insert never fails; audit_partitions_ensure creates monthly partitions ahead. Append-only: no write grants for anyone, and the audit_log_append_only trigger refuses UPDATE and DELETE. Readable by platform admins and service_role only.';
alter table public.audit_log enable row level security;
revoke all on table public.audit_log from public, anon, authenticated;
grant select on table public.audit_log to authenticated;
grant select on table public.audit_log to service_role;

create index audit_log_business_id_idx on public.audit_log (business_id, created_at) where business_id is not null;
create index audit_log_table_name_idx on public.audit_log (table_name, created_at);
create index audit_log_actor_id_idx on public.audit_log (actor_id, created_at) where actor_id is not null;

-- Partitions live in private (not exposed); none has grants, and RLS is on.
-- The default partition takes any row no monthly partition covers, so an
-- insert never fails; then this month and the next three
-- (audit_partitions_ensure keeps it going). Dynamic SQL: sqlc's schema reader
-- does not follow a partition into another schema than its parent's.
do $$
declare
  m date;
  part text;
begin
  execute 'create table private.audit_log_default partition of public.audit_log default';
  execute 'alter table private.audit_log_default enable row level security';
  execute 'revoke all on table private.audit_log_default from public, anon, authenticated, service_role';
  for i in 0 .. 3 loop
    m := (date_trunc('month', now() at time zone 'UTC') + make_interval(months => i))::date;
    part := 'audit_log_p' || to_char(m, 'YYYYMM');
    execute format(
      'create table if not exists private.%I partition of public.audit_log for values from (%L) to (%L)',
      part, m::text || ' 00:00:00+00', (m + interval '1 month')::date::text || ' 00:00:00+00');
    execute format('alter table private.%I enable row level security', part);
    execute format('revoke all on table private.%I from public, anon, authenticated, service_role', part);
  end loop;
end
$$;

-- ---------------------------------------------------------------------------
-- business_stats_daily: served by business_stats(), refreshed by
-- business_stats_refresh(). A materialized view ignores RLS, so it lives in
-- private with no grants to any API role.
create materialized view private.business_stats_daily as
select a.business_id,
       (lower(a.slot) at time zone b.timezone)::date as day,
       (count(*) filter (where a.status <> 'cancelled'))::integer as bookings,
       (coalesce(sum(a.amount_due_cents) filter (where a.status <> 'cancelled'), 0))::bigint as revenue_cents,
       (count(*) filter (where a.status = 'cancelled'))::integer as cancellations
from public.appointments a
join public.businesses b on b.id = a.business_id
group by a.business_id, (lower(a.slot) at time zone b.timezone)::date
with data;
comment on materialized view private.business_stats_daily is
  'Per business and local day of the appointment start: bookings (not cancelled), revenue_cents (sum of amount_due_cents of the bookings) and cancellations. Snapshot: refreshed by business_stats_refresh(). No grants to API roles (a materialized view ignores RLS); read through business_stats().';
revoke all on table private.business_stats_daily from public, anon, authenticated, service_role;
-- Required by REFRESH ... CONCURRENTLY; serves business_stats().
create unique index business_stats_daily_business_id_day_key on private.business_stats_daily (business_id, day);

-- ---------------------------------------------------------------------------
-- Scheduled jobs, when pg_cron is installed in this database (its cron schema
-- exists only after CREATE EXTENSION, which needs shared_preload_libraries).
-- Otherwise nothing happens here: see docs/scheduling.md for the plain cron
-- alternative (and for scheduling after installing pg_cron later).
do $$
begin
  if exists (select 1 from pg_catalog.pg_namespace where nspname = 'cron') then
    perform cron.schedule('dbtool_holds_expire', '* * * * *', 'select public.holds_expire()');
    perform cron.schedule('dbtool_reminders_queue', '*/15 * * * *',
      'select public.reminders_queue(window_start => now(), window_end => now() + interval ''24 hours'')');
    perform cron.schedule('dbtool_business_stats_refresh', '5 * * * *', 'select public.business_stats_refresh()');
    perform cron.schedule('dbtool_audit_partitions_ensure', '17 3 * * *', 'select public.audit_partitions_ensure(months_ahead => 3)');
  end if;
end
$$;
