-- A refunded (or charged back) payment changes the booking it paid for:
-- payment_event_record cancels the appointment when it has not started, and
-- otherwise flags it (refunded_at) for staff; either way its revenue leaves
-- business_stats. docs/errors.md ("Refunds and chargebacks") has the rule.
alter table public.appointments add column refunded_at timestamptz;
comment on column public.appointments.refunded_at is
  'When the payment for this appointment was refunded or charged back (payment_event_record, status refunded). A confirmed appointment is cancelled at the same time; one that had started keeps its status and is flagged for staff. Refunded appointments earn no revenue in business_stats.';

-- Revenue counts what was kept: not cancelled, not refunded.
drop materialized view private.business_stats_daily;
create materialized view private.business_stats_daily as
select a.business_id,
       (lower(a.slot) at time zone b.timezone)::date as day,
       (count(*) filter (where a.status <> 'cancelled'))::integer as bookings,
       (coalesce(sum(a.amount_due_cents) filter (where a.status <> 'cancelled' and a.refunded_at is null), 0))::bigint as revenue_cents,
       (count(*) filter (where a.status = 'cancelled'))::integer as cancellations
from public.appointments a
join public.businesses b on b.id = a.business_id
group by a.business_id, (lower(a.slot) at time zone b.timezone)::date
with data;
comment on materialized view private.business_stats_daily is
  'Per business and local day of the appointment start: bookings (not cancelled), revenue_cents (sum of amount_due_cents of the bookings whose payment was not refunded) and cancellations. Snapshot: refreshed by business_stats_refresh(). No grants to API roles (a materialized view ignores RLS); read through business_stats().';
revoke all on table private.business_stats_daily from public, anon, authenticated, service_role;
create unique index business_stats_daily_business_id_day_key on private.business_stats_daily (business_id, day);
