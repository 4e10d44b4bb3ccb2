-- Memberships and credits: membership plans (public catalogue), memberships
-- (one active per customer per business), and an append-only credit ledger
-- with a per-(business, customer) balance row.
--
-- Balance model: credit_balances holds one row per (business, customer) with
-- balance >= 0 (CHECK). Every credit_ledger insert goes through the
-- credit_ledger_apply trigger (procedures/triggers), which locks that row
-- FOR UPDATE, computes balance_after (CHECK >= 0 on the ledger too) and
-- updates the balance in the same statement, so the balance can never go
-- negative on any write path (manual SQL included) and always equals the sum
-- of the ledger. The ledger is append-only: no UPDATE/DELETE/TRUNCATE grant
-- for any API role, and the credit_ledger_append_only trigger refuses them
-- for everyone else (owner and superuser included).
--
-- Idempotency model: every ledger entry has a caller-chosen idempotency_key,
-- unique per (business_id, customer_id, kind). Procedures lock the balance
-- row first, then look the key up, so a replay (even a concurrent one) finds
-- the first entry and returns it unchanged.

-- ---------------------------------------------------------------------------
-- membership_plans
create table public.membership_plans (
  id              uuid not null default gen_random_uuid(),
  business_id     uuid not null,
  name            text not null,
  description     text,
  monthly_credits integer not null,
  price_cents     integer not null,
  active          boolean not null default true,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
comment on table public.membership_plans is
  'A membership plan of a business: price_cents per month (business currency) buys monthly_credits credits each period. Public catalogue when active; members see inactive ones too. Written by members with catalog.manage. Cannot be deleted while a membership references it: set active = false instead.';
alter table public.membership_plans enable row level security;
revoke all on table public.membership_plans from public, anon, authenticated;
grant select on table public.membership_plans to anon, authenticated;
grant insert (business_id, name, description, monthly_credits, price_cents, active) on table public.membership_plans to authenticated;
grant update (name, description, monthly_credits, price_cents, active) on table public.membership_plans to authenticated;
grant delete on table public.membership_plans to authenticated;
grant select, insert, update, delete on table public.membership_plans to service_role;

alter table public.membership_plans
  add constraint membership_plans_pkey primary key (id),
  add constraint membership_plans_id_business_id_key unique (id, business_id),
  add constraint membership_plans_business_id_name_key unique (business_id, name),
  add constraint membership_plans_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint membership_plans_name_check check (char_length(btrim(name)) between 1 and 120),
  add constraint membership_plans_description_check check (description is null or char_length(description) <= 2000),
  add constraint membership_plans_monthly_credits_check check (monthly_credits between 1 and 1000),
  add constraint membership_plans_price_cents_check check (price_cents between 0 and 10000000);
-- membership_plans_business_id_name_key covers lookups and the FK by business_id.

-- ---------------------------------------------------------------------------
-- memberships
create table public.memberships (
  id                   uuid not null default gen_random_uuid(),
  business_id          uuid not null,
  customer_id          uuid not null,
  plan_id              uuid not null,
  status               text not null default 'active',
  current_period_start date not null,
  current_period_end   date not null,
  cancelled_at         timestamptz,
  cancelled_by         uuid,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now()
);
comment on table public.memberships is
  'A customer''s membership of a business on a plan. At most one active membership per (business, customer) (memberships_business_id_customer_id_active_key). Activated and renewed by billing (membership_activate, service_role), which grants the plan''s monthly credits once per period; cancelled by its customer or an owner of the business (membership_cancel). Credits already granted stay. Written only by those procedures.';
alter table public.memberships enable row level security;
revoke all on table public.memberships from public, anon, authenticated;
grant select on table public.memberships to authenticated;
-- service_role reads; it writes only through the procedures (money, credits and coupons have one write path).
grant select on table public.memberships to service_role;

alter table public.memberships
  add constraint memberships_pkey primary key (id),
  add constraint memberships_id_business_id_customer_id_key unique (id, business_id, customer_id),
  add constraint memberships_business_id_fkey foreign key (business_id) references public.businesses (id) on delete restrict,
  add constraint memberships_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete restrict,
  add constraint memberships_plan_id_business_id_fkey foreign key (plan_id, business_id)
    references public.membership_plans (id, business_id) on delete restrict,
  add constraint memberships_cancelled_by_fkey foreign key (cancelled_by) references auth.users (id) on delete set null,
  add constraint memberships_status_check check (status in ('active', 'cancelled')),
  add constraint memberships_period_check check (current_period_end > current_period_start),
  add constraint memberships_cancelled_check check (
    (status = 'cancelled') = (cancelled_at is not null)
    and (cancelled_at is not null or cancelled_by is null));
-- One active membership per customer per business.
create unique index memberships_business_id_customer_id_active_key
  on public.memberships (business_id, customer_id) where status = 'active';
create index memberships_business_id_idx on public.memberships (business_id);
-- Policy (customer_id = auth.uid()) and the customer FK.
create index memberships_customer_id_idx on public.memberships (customer_id);
create index memberships_plan_id_idx on public.memberships (plan_id);
create index memberships_cancelled_by_idx on public.memberships (cancelled_by) where cancelled_by is not null;

-- ---------------------------------------------------------------------------
-- credit_balances
create table public.credit_balances (
  business_id uuid not null,
  customer_id uuid not null,
  balance     integer not null default 0,
  updated_at  timestamptz not null default now()
);
comment on table public.credit_balances is
  'The credit balance of a customer at a business: always the sum of its credit_ledger entries, never negative (CHECK). Maintained only by the credit_ledger_apply trigger under a row lock; procedures lock this row (FOR UPDATE) before deciding, so concurrent grants and redemptions serialise per (business, customer). Read-only for clients.';
alter table public.credit_balances enable row level security;
revoke all on table public.credit_balances from public, anon, authenticated;
grant select on table public.credit_balances to authenticated;
grant select on table public.credit_balances to service_role;

alter table public.credit_balances
  add constraint credit_balances_pkey primary key (business_id, customer_id),
  add constraint credit_balances_business_id_fkey foreign key (business_id) references public.businesses (id) on delete cascade,
  add constraint credit_balances_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete cascade,
  add constraint credit_balances_balance_check check (balance >= 0);
create index credit_balances_customer_id_idx on public.credit_balances (customer_id);

-- ---------------------------------------------------------------------------
-- credit_ledger
create table public.credit_ledger (
  id              bigint not null generated always as identity,
  business_id     uuid not null,
  customer_id     uuid not null,
  kind            text not null,
  delta           integer not null,
  balance_after   integer not null default 0,
  reason          text not null,
  idempotency_key text not null,
  appointment_id  uuid,
  membership_id   uuid,
  created_by      uuid,
  created_at      timestamptz not null default now()
);
comment on table public.credit_ledger is
  'Append-only credit ledger: one row per grant (credits_grant), membership period (membership_activate) or redemption (credits_redeem). delta is signed; balance_after is always set by the credit_ledger_apply trigger from the locked credit_balances row (any value passed in is ignored) and can never be negative. (business_id, customer_id, kind, idempotency_key) is unique: a replayed call returns the first entry. created_by is the acting user (null for service_role); it has no foreign key, so ledger rows never change when a user is deleted. No UPDATE, DELETE or TRUNCATE for anyone (grants + credit_ledger_append_only trigger).';
alter table public.credit_ledger enable row level security;
revoke all on table public.credit_ledger from public, anon, authenticated;
grant select on table public.credit_ledger to authenticated;
grant select on table public.credit_ledger to service_role;

alter table public.credit_ledger
  add constraint credit_ledger_pkey primary key (id),
  add constraint credit_ledger_idempotency_key_key unique (business_id, customer_id, kind, idempotency_key),
  -- ON DELETE RESTRICT everywhere: a cascading action would have to change ledger rows.
  add constraint credit_ledger_business_id_fkey foreign key (business_id) references public.businesses (id) on delete restrict,
  add constraint credit_ledger_customer_id_fkey foreign key (customer_id) references auth.users (id) on delete restrict,
  add constraint credit_ledger_appointment_id_fkey foreign key (appointment_id, business_id, customer_id)
    references public.appointments (id, business_id, customer_id) on delete restrict,
  add constraint credit_ledger_membership_id_fkey foreign key (membership_id, business_id, customer_id)
    references public.memberships (id, business_id, customer_id) on delete restrict,
  add constraint credit_ledger_kind_check check (kind in ('grant', 'membership', 'redeem')),
  add constraint credit_ledger_delta_check check (delta <> 0 and delta between -100000 and 100000),
  add constraint credit_ledger_balance_after_check check (balance_after >= 0),
  add constraint credit_ledger_reason_check check (char_length(btrim(reason)) between 1 and 200),
  add constraint credit_ledger_idempotency_key_check check (char_length(btrim(idempotency_key)) between 1 and 200),
  add constraint credit_ledger_kind_refs_check check (
    (kind <> 'redeem' or (appointment_id is not null and delta < 0))
    and (kind <> 'membership' or (membership_id is not null and delta > 0))
    and (kind <> 'grant' or (appointment_id is null and membership_id is null)));
-- Policy (customer_id = auth.uid()) and the customer FK.
create index credit_ledger_customer_id_idx on public.credit_ledger (customer_id, created_at);
-- Staff history of a business.
create index credit_ledger_business_id_idx on public.credit_ledger (business_id, created_at);
create index credit_ledger_appointment_id_idx on public.credit_ledger (appointment_id) where appointment_id is not null;
create index credit_ledger_membership_id_idx on public.credit_ledger (membership_id) where membership_id is not null;
