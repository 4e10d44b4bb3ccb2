-- A booking's price is computed from the vehicle's type when the slot is
-- held (service price for that type + add-ons) and frozen on the hold. The
-- type must therefore not change while a booking of the vehicle is open: a
-- customer could hold a slot for a sedan, switch the car to an SUV (or a
-- type the service does not offer) and confirm or pay at the sedan's price.
-- Holds on every write path (the customer's own UPDATE, service_role).
create or replace function private.vehicles_lock_type()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.vehicle_type is distinct from old.vehicle_type and (
    exists (
      select 1 from public.holds h
      where h.customer_id = old.user_id and h.vehicle_id = old.id -- the owner's bookings (an index)
        and h.status = 'active' -- expired or not: a payment may still confirm it
    )
    or exists (
      select 1 from public.appointments a
      where a.customer_id = old.user_id and a.vehicle_id = old.id
        and a.status in ('confirmed', 'in_progress')
    )
  ) then
    raise exception using
      errcode = 'PT409',
      message = 'the vehicle has an open booking',
      detail = 'vehicle_type_locked', constraint = 'vehicle_type_locked',
      hint = 'Its type priced that booking: release the hold or finish or cancel the appointment first, or add the vehicle again with the right type.';
  end if;
  return new;
end
$$;
comment on function private.vehicles_lock_type() is
  'BEFORE UPDATE OF vehicle_type trigger on vehicles: refuses a type change while the vehicle has an active hold (expired or not: a payment may still confirm it) or a confirmed or in-progress appointment, whose price was computed from the type (PT409 vehicle_type_locked).';
revoke execute on function private.vehicles_lock_type() from public, anon, authenticated, service_role;

drop trigger if exists vehicles_lock_type on public.vehicles;
create trigger vehicles_lock_type
  before update of vehicle_type on public.vehicles
  for each row execute function private.vehicles_lock_type();
