-- private.appointment_for_caller(appointment_id): the one rule for who may
-- see an appointment in a procedure, as its RLS policies say: its customer,
-- members of its business and platform admins. It raises 42501
-- not_authenticated without a signed-in caller and, for everyone who may not
-- see the appointment, PT404 appointment_not_found, the same error as for a
-- missing id, so existence does not leak. Each procedure then checks what
-- the caller may do (42501).
create or replace function private.appointment_for_caller(appointment_id uuid, out business_id uuid, out customer_id uuid)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  select a.business_id, a.customer_id into appointment_for_caller.business_id, appointment_for_caller.customer_id
  from public.appointments a where a.id = appointment_for_caller.appointment_id;
  if appointment_for_caller.business_id is null
     or (appointment_for_caller.customer_id <> v_uid
         and not exists (select 1 from public.business_members m
                         where m.business_id = appointment_for_caller.business_id and m.user_id = v_uid)
         and not private.is_platform_admin()) then
    raise exception using errcode = 'PT404', message = 'appointment not found',
      detail = 'appointment_not_found', constraint = 'appointment_not_found', hint = 'Check the appointment id.';
  end if;
end
$$;
comment on function private.appointment_for_caller(uuid) is
  'The appointment''s business and customer when the caller may see it (its customer, a member of its business, a platform admin); else PT404 appointment_not_found (42501 not_authenticated without a caller). Used by the appointment procedures.';
revoke execute on function private.appointment_for_caller(uuid) from public, anon, authenticated, service_role;
