create or replace function public.hold_confirm(hold_id uuid)
returns setof public.appointments
language plpgsql
volatile
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
  v_uid uuid := auth.uid();
  v_caller record;
  v_customer_id uuid;
  v_business_id uuid;
  v_hold public.holds%rowtype;
  v_payment_required boolean;
  v_max_upcoming integer;
  v_upcoming bigint;
  v_appointment public.appointments%rowtype;
begin
  -- Members of the business and platform admins can see the hold (RLS), so
  -- for them it exists: 42501. Everyone else: the same error as a missing id.
  v_caller := private.hold_for_caller(hold_confirm.hold_id);
  v_business_id := v_caller.business_id;
  v_customer_id := v_caller.customer_id;
  if v_customer_id <> v_uid then
    raise exception using errcode = '42501', message = 'only the hold''s customer can confirm it',
      detail = 'hold_owner_required', constraint = 'hold_owner_required', hint = 'The customer confirms their own hold (service_role: pass the customer as sub).';
  end if;

  -- Lock order everywhere: the customer lock (caps), then the hold row, then
  -- the crew (private.crew_claim, inside private.appointment_from_hold).
  perform private.booking_lock(v_business_id, null, v_customer_id);
  select h.* into v_hold from public.holds h where h.id = hold_confirm.hold_id for update;
  if not found then -- deleted meanwhile (its vehicle, address or service was deleted)
    raise exception using errcode = 'PT404', message = 'hold not found',
      detail = 'hold_not_found', constraint = 'hold_not_found', hint = 'Pass one of your own holds.';
  end if;
  -- The business's payment rule, its cap (a setting without a row has its
  -- default: private.setting) and the customer's upcoming appointments, in
  -- one statement under the customer lock.
  select b.payment_required,
         (select bs.value from public.business_settings bs
          where bs.business_id = b.id and bs.key = 'max_upcoming_appointments_per_customer'),
         (select count(*) from public.appointments a
          where a.customer_id = v_uid and a.business_id = b.id
            and a.status in ('confirmed', 'in_progress') and lower(a.slot) > now())
  into v_payment_required, v_max_upcoming, v_upcoming
  from public.businesses b where b.id = v_business_id;

  if v_hold.status = 'confirmed' or v_hold.status = 'released' then
    raise exception using errcode = 'PT409', message = format('the hold is %s', v_hold.status),
      detail = 'hold_not_active', constraint = 'hold_not_active', hint = 'Create a new hold.';
  end if;
  if v_hold.status = 'expired' or v_hold.expires_at <= now() then
    raise exception using errcode = 'P0001', message = 'the hold has expired',
      detail = 'hold_expired', constraint = 'hold_expired', hint = 'Create a new hold; the slot may still be free.';
  end if;
  if lower(v_hold.slot) <= now() then
    raise exception using errcode = 'P0001', message = 'the slot has started',
      detail = 'slot_in_past', constraint = 'slot_in_past', hint = 'Pick a slot from availability_get.';
  end if;
  if v_payment_required then
    raise exception using errcode = 'P0001', message = 'this business takes bookings only with payment',
      detail = 'payment_required', constraint = 'payment_required', hint = 'Confirm the hold through the payment flow.';
  end if;
  if not private.is_service_role()
     and v_upcoming >= coalesce(v_max_upcoming, private.setting(v_business_id, 'max_upcoming_appointments_per_customer')) then
    raise exception using errcode = 'P0001', message = 'too many upcoming appointments',
      detail = 'appointment_cap_reached', constraint = 'appointment_cap_reached', hint = 'Wait until an appointment is done, or cancel one.';
  end if;

  -- The booking itself (shared with payment_event_record): the hold's crew
  -- if it is still free (a blackout may have come in between), otherwise any
  -- free crew; null when none is.
  v_appointment := private.appointment_from_hold(v_hold);
  if v_appointment.id is null then
    raise exception using errcode = 'PT409', message = 'the slot is no longer available',
      detail = 'slot_unavailable', constraint = 'slot_unavailable', hint = 'Pick another slot from availability_get.';
  end if;

  return next v_appointment;
end
$$;
comment on function public.hold_confirm(uuid) is
  'Turns the caller''s active hold into a confirmed appointment when the business does not require payment: under the customer lock and the crew lock (private.crew_claim) it re-checks that a crew is free (the hold''s, else another) and the upcoming-appointment cap (not under service_role). Errors: 42501 not_authenticated / hold_owner_required, PT404 hold_not_found, P0001 hold_expired / slot_in_past / payment_required / appointment_cap_reached, PT409 hold_not_active, PT409 slot_unavailable.';
revoke execute on function public.hold_confirm(uuid) from public, anon, authenticated, service_role;
grant execute on function public.hold_confirm(uuid) to authenticated, service_role;
