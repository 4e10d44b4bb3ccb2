-- One rule for what a customer reads about who acted: rows a customer can
-- read (their appointments and its history and thread, their memberships,
-- their credit ledger) say who acted by kind in a *_role column (customer,
-- staff, admin, system) and hold a user id only when it is the customer's
-- own. A staff member's user id is never in them: which staff member acted is
-- in audit_log (appointments, memberships, credit_ledger and, from now on,
-- appointment_messages are audited), which the business's owners read for
-- their business (permission audit.read). Notifications already followed this
-- rule (actor_id for the business audience only).
--
-- Existing rows: the kind is derived from the id that was stored (none:
-- system; the customer: customer; a platform admin who is not a member of the
-- business: admin; anyone else: staff), then staff and admin ids are cleared.

insert into public.permissions (name, description) values
  ('audit.read', 'Read the audit log of the business (who did what). Owners hold it; no other role does by default.');

-- The kind of an actor id stored in a row of business_id about customer_id
-- (session-local: gone when the migration's connection closes).
create function pg_temp.stored_actor_kind(actor uuid, business_id uuid, customer_id uuid)
returns text
language sql
stable
as $$
  select case
    when actor is null then 'system'
    when actor = customer_id then 'customer'
    when exists (select 1 from public.platform_admins p where p.user_id = actor)
         and not exists (select 1 from public.business_members m
                         where m.business_id = stored_actor_kind.business_id and m.user_id = actor) then 'admin'
    else 'staff' end
$$;

-- ---------------------------------------------------------------------------
-- appointment_status_history.changed_by_role
alter table public.appointment_status_history add column changed_by_role text;
update public.appointment_status_history h
set changed_by_role = pg_temp.stored_actor_kind(h.changed_by, h.business_id, h.customer_id);
update public.appointment_status_history h set changed_by = null where h.changed_by_role <> 'customer';
alter table public.appointment_status_history
  alter column changed_by_role set not null,
  add constraint appointment_status_history_changed_by_role_check check (
    changed_by_role in ('customer', 'staff', 'admin', 'system')
    and (changed_by is null or (changed_by = customer_id and changed_by_role = 'customer')));
comment on column public.appointment_status_history.changed_by_role is
  'Who made the change, by kind: customer, staff (a member of the business), admin (a platform admin) or system (service_role, jobs, payment webhooks). changed_by is the customer''s own id when changed_by_role is customer and null otherwise: customers never read staff user ids (owners find them in audit_log).';

-- ---------------------------------------------------------------------------
-- appointment_messages: author_role already says customer or staff.
update public.appointment_messages am set author_id = null where am.author_role <> 'customer';
alter table public.appointment_messages
  add constraint appointment_messages_author_id_check check (
    author_id is null or (author_id = customer_id and author_role = 'customer'));
comment on column public.appointment_messages.author_id is
  'The customer''s own id on their messages (null once their account is deleted); null on staff messages: customers never read staff user ids (owners find them in audit_log).';

-- ---------------------------------------------------------------------------
-- appointments.cancelled_by_role
alter table public.appointments add column cancelled_by_role text;
update public.appointments a
set cancelled_by_role = pg_temp.stored_actor_kind(a.cancelled_by, a.business_id, a.customer_id),
    cancelled_by = case when a.cancelled_by = a.customer_id then a.cancelled_by end
where a.cancelled_at is not null;
alter table public.appointments
  add constraint appointments_cancelled_by_role_check check (
    (cancelled_by_role is null) = (cancelled_at is null)
    and (cancelled_by_role is null or cancelled_by_role in ('customer', 'staff', 'admin', 'system'))
    and (cancelled_by is null or (cancelled_by = customer_id and cancelled_by_role = 'customer')));
comment on column public.appointments.cancelled_by_role is
  'Who cancelled, by kind (customer, staff, admin, system: a refund or a job); null unless cancelled. cancelled_by is the customer''s own id when they cancelled and null otherwise: customers never read staff user ids (owners find them in audit_log and history).';
grant update (cancelled_by_role) on table public.appointments to service_role;

-- ---------------------------------------------------------------------------
-- memberships.cancelled_by_role
alter table public.memberships add column cancelled_by_role text;
update public.memberships ms
set cancelled_by_role = pg_temp.stored_actor_kind(ms.cancelled_by, ms.business_id, ms.customer_id),
    cancelled_by = case when ms.cancelled_by = ms.customer_id then ms.cancelled_by end
where ms.cancelled_at is not null;
alter table public.memberships
  add constraint memberships_cancelled_by_role_check check (
    (cancelled_by_role is null) = (cancelled_at is null)
    and (cancelled_by_role is null or cancelled_by_role in ('customer', 'staff', 'admin', 'system'))
    and (cancelled_by is null or (cancelled_by = customer_id and cancelled_by_role = 'customer')));
comment on column public.memberships.cancelled_by_role is
  'Who cancelled, by kind (customer, staff: an owner, admin, system); null unless cancelled. cancelled_by is the customer''s own id when they cancelled and null otherwise: customers never read staff user ids (owners find them in audit_log).';

-- ---------------------------------------------------------------------------
-- credit_ledger.created_by_role. The ledger is append-only for everyone; this
-- migration is the one rewrite of past rows, so the refusing trigger (made by
-- procedures/triggers/append_only.sql, absent on a new database) is off for
-- this statement only; the same transaction turns it back on.
alter table public.credit_ledger add column created_by_role text;
do $$
begin
  if exists (select 1 from pg_catalog.pg_trigger
             where tgrelid = 'public.credit_ledger'::regclass and tgname = 'credit_ledger_append_only') then
    alter table public.credit_ledger disable trigger credit_ledger_append_only;
  end if;
end
$$;
update public.credit_ledger l
set created_by_role = pg_temp.stored_actor_kind(l.created_by, l.business_id, l.customer_id),
    created_by = case when l.created_by = l.customer_id then l.created_by end;
do $$
begin
  if exists (select 1 from pg_catalog.pg_trigger
             where tgrelid = 'public.credit_ledger'::regclass and tgname = 'credit_ledger_append_only') then
    alter table public.credit_ledger enable trigger credit_ledger_append_only;
  end if;
end
$$;
alter table public.credit_ledger
  alter column created_by_role set not null,
  add constraint credit_ledger_created_by_role_check check (
    created_by_role in ('customer', 'staff', 'admin', 'system')
    and (created_by is null or (created_by = customer_id and created_by_role = 'customer')));
comment on column public.credit_ledger.created_by_role is
  'Who wrote the entry, by kind: customer (a redemption), staff (a grant by a member), admin, system (service_role: billing, membership credits). created_by is the customer''s own id on their redemptions and null otherwise: customers never read staff user ids (owners find them in audit_log).';
