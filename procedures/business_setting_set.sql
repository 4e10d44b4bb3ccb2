create or replace function public.business_setting_set(business_id uuid, key text, value integer default null)
returns setof public.business_settings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_default integer;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(business_setting_set.key) > 256 then
    raise exception using errcode = '22023', message = 'key is too long',
      detail = 'setting_key_invalid', constraint = 'setting_key_invalid', hint = 'Pass at most 64 characters.';
  end if;
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if business_setting_set.business_id is null or business_setting_set.key is null then
    raise exception using errcode = '22023', message = 'business_id and key are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if not exists (select 1 from public.businesses b where b.id = business_setting_set.business_id) then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  if not exists (
    select 1 from public.business_members m
    where m.business_id = business_setting_set.business_id and m.user_id = v_uid and m.role = 'owner'
  ) then
    raise exception using errcode = '42501', message = 'only an owner of the business can do this',
      detail = 'owner_required', constraint = 'owner_required', hint = 'Ask an owner of the business.';
  end if;
  select d.value into v_default from private.setting_defaults() d where d.key = business_setting_set.key;
  if not found then
    raise exception using errcode = '22023', message = format('unknown business setting %s', private.excerpt(business_setting_set.key)),
      detail = 'setting_key_invalid', constraint = 'setting_key_invalid',
      hint = 'Use hold_minutes, max_active_holds_per_customer, max_upcoming_appointments_per_customer, customer_cancel_cutoff_hours or customer_reschedule_cutoff_hours.';
  end if;

  -- Ranges are the business_settings_<key>_check constraints (23514).
  insert into public.business_settings as s (business_id, key, value)
  values (business_setting_set.business_id, business_setting_set.key, coalesce(business_setting_set.value, v_default))
  on conflict on constraint business_settings_pkey
  do update set value = excluded.value;

  return query
    select s.* from public.business_settings s
    where s.business_id = business_setting_set.business_id and s.key = business_setting_set.key;
end
$$;
comment on function public.business_setting_set(uuid, text, integer) is
  'Owner only: sets one business setting (value null = back to the default). Errors: 42501 not_authenticated / owner_required, PT404 business_not_found, 22023 argument_required / setting_key_invalid, 23514 business_settings_<key>_check when the value is out of range.';
revoke execute on function public.business_setting_set(uuid, text, integer) from public, anon, authenticated, service_role;
grant execute on function public.business_setting_set(uuid, text, integer) to authenticated;
