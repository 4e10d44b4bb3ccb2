-- The booking step shared by hold_confirm (no payment) and
-- payment_event_record (paid): turns a hold into a confirmed appointment.
-- The caller has checked who may do this and the hold's state, and holds the
-- customer lock (private.booking_lock) and the hold row (FOR UPDATE); the
-- crew is taken through private.crew_claim, so "a crew is free" stays true
-- until commit.
-- It takes the hold row the caller has locked (no second read of it) and
-- returns the appointment as inserted (no read of it afterwards); it was
-- appointment_from_hold(uuid) returning the id, dropped here.
drop function if exists private.appointment_from_hold(uuid);
create or replace function private.appointment_from_hold(hold public.holds)
returns public.appointments
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_crew uuid;
  v_appointment public.appointments%rowtype;
begin
  if hold.id is null then
    return null;
  end if;

  -- The hold's crew if it is still free (a blackout may have come in
  -- between), otherwise any free crew.
  v_crew := private.crew_claim(hold.business_id, hold.slot, hold.crew_id, hold.id);
  if v_crew is null then
    return null;
  end if;

  insert into public.appointments
    (business_id, customer_id, service_id, vehicle_id, address_id, crew_id, hold_id, slot, price_cents, discount_cents, currency)
  values
    (hold.business_id, hold.customer_id, hold.service_id, hold.vehicle_id, hold.address_id, v_crew, hold.id,
     hold.slot, hold.price_cents, hold.discount_cents,
     (select b.currency from public.businesses b where b.id = hold.business_id))
  returning * into v_appointment;

  -- Most holds have no add-ons: one probe of hold_addons' primary key
  -- instead of an INSERT that opens appointment_addons and its indexes.
  if exists (select 1 from public.hold_addons ha where ha.hold_id = hold.id) then
    insert into public.appointment_addons (appointment_id, business_id, customer_id, addon_id, name, price_cents, duration_minutes)
    select v_appointment.id, hold.business_id, hold.customer_id, ha.addon_id, a.name, ha.price_cents, ha.duration_minutes
    from public.hold_addons ha
    join public.addons a on a.id = ha.addon_id
    where ha.hold_id = hold.id;
  end if;

  update public.holds h set status = 'confirmed' where h.id = hold.id;
  return v_appointment;
end
$$;
comment on function private.appointment_from_hold(public.holds) is
  'Books a hold (the row the caller read FOR UPDATE): picks the hold''s crew if still free, else any free crew, and locks it (private.crew_claim), inserts the confirmed appointment (price, discount and add-ons copied from the hold, currency from the business) and marks the hold confirmed. Returns the appointment as inserted, or null when no crew is free (nothing written). The caller checks identity and hold state and holds the customer lock (private.booking_lock) and the hold row lock. Used by hold_confirm and payment_event_record.';
revoke execute on function private.appointment_from_hold(public.holds) from public, anon, authenticated, service_role;
