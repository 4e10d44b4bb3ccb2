create or replace function public.appointment_reschedule(appointment_id uuid, new_start timestamptz)
returns setof public.appointments
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_business_id uuid;
  v_customer_id uuid;
  v_is_manager boolean;
  v_appt public.appointments%rowtype;
  v_tz text;
  v_local timestamp;
  v_slot tstzrange;
  v_crew uuid;
begin
  -- Signed in and allowed to see it (else the same error as a missing id).
  select c.business_id, c.customer_id into v_business_id, v_customer_id
  from private.appointment_for_caller(appointment_reschedule.appointment_id) c;
  v_is_manager := private.has_permission(v_business_id, 'appointments.manage');
  if v_customer_id <> v_uid and not v_is_manager then
    raise exception using errcode = '42501', message = 'permission appointments.manage required',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Ask an owner for a role with appointments.manage.';
  end if;
  if appointment_reschedule.new_start is null then
    raise exception using errcode = '22023', message = 'new_start is required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;

  if appointment_reschedule.new_start > now() + make_interval(days => private.setting(v_business_id, 'booking_horizon_days')) then
    raise exception using errcode = 'P0001', message = 'the slot is beyond the business''s booking horizon',
      detail = 'booking_horizon_exceeded', constraint = 'booking_horizon_exceeded',
      hint = 'Book at most booking_horizon_days ahead (a business setting, 365 days unless changed).';
  end if;
  -- Lock order: the appointment row, then the crew for the new slot
  -- (private.crew_claim). No customer lock: a move changes no cap.
  select b.timezone into v_tz from public.businesses b where b.id = v_business_id;
  select a.* into v_appt from public.appointments a where a.id = appointment_reschedule.appointment_id for update;

  if v_appt.status <> 'confirmed' then
    raise exception using errcode = 'PT409', message = format('a %s appointment cannot be rescheduled', v_appt.status),
      detail = 'appointment_not_active', constraint = 'appointment_not_active', hint = 'Only confirmed appointments can be moved.';
  end if;
  if not v_is_manager and now() > lower(v_appt.slot)
       - make_interval(hours => private.setting(v_business_id, 'customer_reschedule_cutoff_hours')) then
    raise exception using errcode = 'P0001', message = 'too late to reschedule',
      detail = 'reschedule_cutoff_passed', constraint = 'reschedule_cutoff_passed', hint = 'Contact the business to move this appointment.';
  end if;

  v_local := appointment_reschedule.new_start at time zone v_tz;
  if v_local <> date_trunc('minute', v_local) or extract(minute from v_local)::integer % 15 <> 0 then
    raise exception using errcode = '22023', message = 'new_start must be on a quarter hour of the business''s local time',
      detail = 'slot_invalid', constraint = 'slot_invalid', hint = 'Pass a slot_start returned by availability_get.';
  end if;
  if appointment_reschedule.new_start <= now() then
    raise exception using errcode = 'P0001', message = 'new_start is in the past',
      detail = 'slot_in_past', constraint = 'slot_in_past', hint = 'Pick a slot from availability_get.';
  end if;
  v_slot := tstzrange(appointment_reschedule.new_start,
                      appointment_reschedule.new_start + (upper(v_appt.slot) - lower(v_appt.slot)));
  if not private.business_open_ranges(v_business_id, v_local::date) @> v_slot then
    raise exception using errcode = 'P0001', message = 'the slot is outside working hours',
      detail = 'slot_outside_working_hours', constraint = 'slot_outside_working_hours', hint = 'Pick a slot from availability_get.';
  end if;

  -- The same crew if it is free for the new slot, otherwise any free crew.
  v_crew := private.crew_claim(v_business_id, v_slot, v_appt.crew_id, null, v_appt.id);
  if v_crew is null then
    raise exception using errcode = 'PT409', message = 'the new slot is not available',
      detail = 'slot_unavailable', constraint = 'slot_unavailable', hint = 'Pick another slot from availability_get.';
  end if;

  update public.appointments a
  set slot = v_slot, crew_id = v_crew
  where a.id = v_appt.id;

  return query
    select a.* from public.appointments a where a.id = v_appt.id;
end
$$;
comment on function public.appointment_reschedule(uuid, timestamptz) is
  'Moves a confirmed appointment to new_start (same duration): its customer until customer_reschedule_cutoff_hours before the start, or members with appointments.manage at any time. Under a row lock (FOR UPDATE) and the crew lock (private.crew_claim) it keeps the crew if free, else picks a free one; never overlaps. Writes a history row (trigger). Errors: 42501 not_authenticated / permission_required, PT404 appointment_not_found, 22023 argument_required / slot_invalid, P0001 reschedule_cutoff_passed / slot_in_past / slot_outside_working_hours, PT409 appointment_not_active, PT409 slot_unavailable.';
revoke execute on function public.appointment_reschedule(uuid, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.appointment_reschedule(uuid, timestamptz) to authenticated, service_role;
