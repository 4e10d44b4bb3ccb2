-- The documented name for business_setting_set (which stays, unchanged, for
-- existing clients): one implementation, two names.
create or replace function public.settings_set(business_id uuid, key text, value integer default null)
returns setof public.business_settings
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(settings_set.key) > 256 then
    raise exception using errcode = '22023', message = 'key is too long',
      detail = 'setting_key_invalid', constraint = 'setting_key_invalid', hint = 'Pass at most 64 characters.';
  end if;
  return query
    select s.*
    from public.business_setting_set(
      business_id => settings_set.business_id,
      key => settings_set.key,
      value => settings_set.value) s;
end
$$;
comment on function public.settings_set(uuid, text, integer) is
  'Owner only: sets one typed business setting (value null = back to the default). Known keys and their ranges: hold_minutes 1-120, max_active_holds_per_customer 1-20, max_upcoming_appointments_per_customer 1-50, customer_cancel_cutoff_hours 0-168, customer_reschedule_cutoff_hours 0-168. Same behaviour and errors as business_setting_set (kept for compatibility): 42501 not_authenticated / owner_required, PT404 business_not_found, 22023 argument_required / setting_key_invalid, 23514 business_settings_<key>_check when the value is out of range.';
revoke execute on function public.settings_set(uuid, text, integer) from public, anon, authenticated, service_role;
grant execute on function public.settings_set(uuid, text, integer) to authenticated;
