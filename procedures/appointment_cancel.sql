create or replace function public.appointment_cancel(appointment_id uuid, reason text default null)
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
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(appointment_cancel.reason) > 2000 then
    raise exception using errcode = '22023', message = 'reason is too long',
      detail = 'cancel_reason_invalid', constraint = 'cancel_reason_invalid', hint = 'Pass at most 500 characters.';
  end if;
  -- Signed in and allowed to see it (else the same error as a missing id).
  select c.business_id, c.customer_id into v_business_id, v_customer_id
  from private.appointment_for_caller(appointment_cancel.appointment_id) c;
  v_is_manager := private.has_permission(v_business_id, 'appointments.manage');
  if v_customer_id <> v_uid and not v_is_manager then
    raise exception using errcode = '42501', message = 'permission appointments.manage required',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Ask an owner for a role with appointments.manage.';
  end if;
  if char_length(appointment_cancel.reason) > 500 then
    raise exception using errcode = '22023', message = 'reason must be at most 500 characters',
      detail = 'cancel_reason_invalid', constraint = 'cancel_reason_invalid', hint = 'Shorten the reason.';
  end if;

  select a.* into v_appt from public.appointments a where a.id = appointment_cancel.appointment_id for update;
  if v_appt.status <> 'confirmed' then
    raise exception using errcode = 'PT409', message = format('a %s appointment cannot be cancelled', v_appt.status),
      detail = 'appointment_not_active', constraint = 'appointment_not_active', hint = 'Only confirmed appointments can be cancelled.';
  end if;
  if not v_is_manager and now() > lower(v_appt.slot)
       - make_interval(hours => private.setting(v_business_id, 'customer_cancel_cutoff_hours')) then
    raise exception using errcode = 'P0001', message = 'too late to cancel',
      detail = 'cancel_cutoff_passed', constraint = 'cancel_cutoff_passed', hint = 'Contact the business to cancel this appointment.';
  end if;

  perform set_config('booking.change_note', coalesce(appointment_cancel.reason, ''), true);
  update public.appointments a
  set status = 'cancelled',
      cancelled_at = now(),
      cancelled_by = case when v_uid = v_customer_id then v_uid end,
      cancelled_by_role = private.actor_role(v_business_id, v_customer_id),
      cancel_reason = nullif(btrim(appointment_cancel.reason, E' \t\r\n\f'), '')
  where a.id = v_appt.id;
  perform set_config('booking.change_note', '', true);

  return query
    select a.* from public.appointments a where a.id = v_appt.id;
end
$$;
comment on function public.appointment_cancel(uuid, text) is
  'Cancels a confirmed appointment: its customer until customer_cancel_cutoff_hours before the start, or members with appointments.manage at any time. Writes a history row with the reason (trigger). Errors: 42501 not_authenticated / permission_required, PT404 appointment_not_found, 22023 cancel_reason_invalid, P0001 cancel_cutoff_passed, PT409 appointment_not_active.';
revoke execute on function public.appointment_cancel(uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.appointment_cancel(uuid, text) to authenticated, service_role;
