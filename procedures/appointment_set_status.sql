create or replace function public.appointment_set_status(appointment_id uuid, status text, note text default null)
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
  v_appt public.appointments%rowtype;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(appointment_set_status.status) > 128 then
    raise exception using errcode = '22023', message = 'status is too long',
      detail = 'appointment_status_invalid', constraint = 'appointment_status_invalid', hint = 'Pass at most 32 characters.';
  end if;
  if octet_length(appointment_set_status.note) > 2000 then
    raise exception using errcode = '22023', message = 'note is too long',
      detail = 'status_note_invalid', constraint = 'status_note_invalid', hint = 'Pass at most 500 characters.';
  end if;
  -- Signed in and allowed to see it (else the same error as a missing id).
  select c.business_id, c.customer_id into v_business_id, v_customer_id
  from private.appointment_for_caller(appointment_set_status.appointment_id) c;
  if not private.has_permission(v_business_id, 'appointments.manage') then
    raise exception using errcode = '42501', message = 'permission appointments.manage required',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Customers use appointment_cancel; staff need a role with appointments.manage.';
  end if;
  if appointment_set_status.status is null
     or appointment_set_status.status not in ('confirmed', 'in_progress', 'completed', 'cancelled', 'no_show') then
    raise exception using errcode = '22023', message = format('invalid status %s', private.excerpt(appointment_set_status.status)),
      detail = 'appointment_status_invalid', constraint = 'appointment_status_invalid', hint = 'Use in_progress, completed, no_show or cancelled.';
  end if;
  if char_length(appointment_set_status.note) > 500 then
    raise exception using errcode = '22023', message = 'note must be at most 500 characters',
      detail = 'status_note_invalid', constraint = 'status_note_invalid', hint = 'Shorten the note.';
  end if;

  select a.* into v_appt from public.appointments a where a.id = appointment_set_status.appointment_id for update;
  if not private.is_status_transition_allowed(v_appt.status, appointment_set_status.status) then
    raise exception using errcode = 'PT409',
      message = format('an appointment cannot go from %s to %s', v_appt.status, private.excerpt(appointment_set_status.status)),
      detail = 'appointment_status_transition_invalid', constraint = 'appointment_status_transition_invalid',
      hint = 'Allowed: confirmed -> in_progress -> completed, confirmed -> no_show, confirmed -> cancelled.';
  end if;

  perform set_config('booking.change_note', coalesce(appointment_set_status.note, ''), true);
  update public.appointments a
  set status = appointment_set_status.status,
      cancelled_at = case when appointment_set_status.status = 'cancelled' then now() end,
      cancelled_by = case when appointment_set_status.status = 'cancelled' and v_uid = v_customer_id then v_uid end,
      cancelled_by_role = case when appointment_set_status.status = 'cancelled' then private.actor_role(v_business_id, v_customer_id) end,
      cancel_reason = case when appointment_set_status.status = 'cancelled'
                           then nullif(btrim(appointment_set_status.note, E' \t\r\n\f'), '') end
  where a.id = v_appt.id;
  perform set_config('booking.change_note', '', true);

  return query
    select a.* from public.appointments a where a.id = v_appt.id;
end
$$;
comment on function public.appointment_set_status(uuid, text, text) is
  'Members with appointments.manage move an appointment through its states: confirmed -> in_progress -> completed, confirmed -> no_show, confirmed -> cancelled (row locked FOR UPDATE). note goes to the history row (trigger) and, for cancelled, to cancel_reason. Errors: 42501 not_authenticated / permission_required, PT404 appointment_not_found, 22023 appointment_status_invalid / status_note_invalid, PT409 appointment_status_transition_invalid.';
revoke execute on function public.appointment_set_status(uuid, text, text) from public, anon, authenticated, service_role;
grant execute on function public.appointment_set_status(uuid, text, text) to authenticated, service_role;
