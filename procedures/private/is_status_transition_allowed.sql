-- The appointment state machine.
create or replace function private.is_status_transition_allowed(from_status text, to_status text)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select (is_status_transition_allowed.from_status, is_status_transition_allowed.to_status) in (
    ('confirmed', 'in_progress'),
    ('in_progress', 'completed'),
    ('confirmed', 'no_show'),
    ('confirmed', 'cancelled')
  )
$$;
comment on function private.is_status_transition_allowed(text, text) is
  'The appointment state machine: confirmed -> in_progress -> completed, confirmed -> no_show, confirmed -> cancelled. Used by appointment_set_status and the appointments_validate_status trigger.';
revoke execute on function private.is_status_transition_allowed(text, text) from public, anon, authenticated, service_role;
-- The appointments status trigger runs as the writing role: service_role
-- writes appointments directly, so it must be able to ask the state machine.
grant execute on function private.is_status_transition_allowed(text, text) to service_role;
