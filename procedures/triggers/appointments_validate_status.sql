-- The appointment state machine holds on every write path, manual SQL included.
create or replace function private.appointments_validate_status()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not private.is_status_transition_allowed(old.status, new.status) then
    raise exception using
      errcode = 'PT409',
      message = format('an appointment cannot go from %s to %s', old.status, private.excerpt(new.status)),
      detail = 'appointment_status_transition_invalid', constraint = 'appointment_status_transition_invalid',
      hint = 'Allowed: confirmed -> in_progress -> completed, confirmed -> no_show, confirmed -> cancelled.';
  end if;
  return new;
end
$$;
comment on function private.appointments_validate_status() is
  'BEFORE UPDATE OF status trigger on appointments: refuses moves outside the state machine (PT409 appointment_status_transition_invalid).';
revoke execute on function private.appointments_validate_status() from public, anon, authenticated, service_role;

drop trigger if exists appointments_validate_status on public.appointments;
create trigger appointments_validate_status
  before update of status on public.appointments
  for each row
  when (old.status is distinct from new.status)
  execute function private.appointments_validate_status();
