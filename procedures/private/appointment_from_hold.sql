-- The booking step shared by hold_confirm (no payment) and
-- payment_event_record (paid): turns a hold into a confirmed appointment.
-- The caller has checked who may do this and the hold's state, and holds the
-- customer lock (private.booking_lock) and the hold row (FOR UPDATE); the
-- crew is taken through private.crew_claim, so "a crew is free" stays true
-- until commit.
create or replace function private.appointment_from_hold(hold_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_hold public.holds%rowtype;
  v_crew uuid;
  v_appointment_id uuid;
begin
  select h.* into v_hold from public.holds h where h.id = appointment_from_hold.hold_id;
  if not found then
    return null;
  end if;

  -- The hold's crew if it is still free (a blackout may have come in
  -- between), otherwise any free crew.
  v_crew := private.crew_claim(v_hold.business_id, v_hold.slot, v_hold.crew_id, v_hold.id);
  if v_crew is null then
    return null;
  end if;

  insert into public.appointments
    (business_id, customer_id, service_id, vehicle_id, address_id, crew_id, hold_id, slot, price_cents, discount_cents, currency)
  values
    (v_hold.business_id, v_hold.customer_id, v_hold.service_id, v_hold.vehicle_id, v_hold.address_id, v_crew, v_hold.id,
     v_hold.slot, v_hold.price_cents, v_hold.discount_cents,
     (select b.currency from public.businesses b where b.id = v_hold.business_id))
  returning id into v_appointment_id;

  -- Most holds have no add-ons: one probe of hold_addons' primary key
  -- instead of an INSERT that opens appointment_addons and its indexes.
  if exists (select 1 from public.hold_addons ha where ha.hold_id = v_hold.id) then
    insert into public.appointment_addons (appointment_id, business_id, customer_id, addon_id, name, price_cents, duration_minutes)
    select v_appointment_id, v_hold.business_id, v_hold.customer_id, ha.addon_id, a.name, ha.price_cents, ha.duration_minutes
    from public.hold_addons ha
    join public.addons a on a.id = ha.addon_id
    where ha.hold_id = v_hold.id;
  end if;

  update public.holds h set status = 'confirmed' where h.id = v_hold.id;
  return v_appointment_id;
end
$$;
comment on function private.appointment_from_hold(uuid) is
  'Books a hold: picks the hold''s crew if still free, else any free crew, and locks it (private.crew_claim), inserts the confirmed appointment (price, discount and add-ons copied from the hold, currency from the business) and marks the hold confirmed. Returns the appointment id, or null when no crew is free (nothing written). The caller checks identity and hold state and holds the customer lock (private.booking_lock) and the hold row lock. Used by hold_confirm and payment_event_record.';
revoke execute on function private.appointment_from_hold(uuid) from public, anon, authenticated, service_role;
