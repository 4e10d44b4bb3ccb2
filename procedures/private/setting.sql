-- A business's setting, or its default.
create or replace function private.setting(business_id uuid, key text)
returns integer
language plpgsql
stable
parallel safe
security definer
set search_path = ''
as $$
declare
  v_value integer;
begin
  select s.value into v_value
  from public.business_settings s
  where s.business_id = setting.business_id
    and s.key = setting.key;
  if found then
    return v_value;
  end if;
  select d.value into v_value
  from private.setting_defaults() d
  where d.key = setting.key;
  if not found then
    raise exception using
      errcode = '22023',
      message = format('unknown business setting %s', private.excerpt(setting.key)),
      detail = 'setting_key_invalid', constraint = 'setting_key_invalid',
      hint = 'Use one of the keys listed by private.setting_defaults().';
  end if;
  return v_value;
end
$$;
comment on function private.setting(uuid, text) is
  'The value of setting key for business_id, or its default (private.setting_defaults). Raises 22023 setting_key_invalid for an unknown key.';
revoke execute on function private.setting(uuid, text) from public, anon, authenticated, service_role;
