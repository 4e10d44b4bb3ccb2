create or replace function public.business_create(name text, slug text, timezone text)
returns setof public.businesses
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_id uuid;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(business_create.name) > 480 then
    raise exception using errcode = '22023', message = 'name is too long',
      detail = 'business_name_invalid', constraint = 'business_name_invalid', hint = 'Pass at most 120 characters.';
  end if;
  if octet_length(business_create.slug) > 252 then
    raise exception using errcode = '22023', message = 'slug is too long',
      detail = 'business_slug_invalid', constraint = 'business_slug_invalid', hint = 'Pass at most 63 characters.';
  end if;
  if octet_length(business_create.timezone) > 256 then
    raise exception using errcode = '22023', message = 'timezone is too long',
      detail = 'business_timezone_invalid', constraint = 'business_timezone_invalid', hint = 'Pass at most 64 characters.';
  end if;
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if business_create.name is null or char_length(btrim(business_create.name, E' \t\r\n\f')) not between 1 and 120 then
    raise exception using errcode = '22023', message = 'name must be 1 to 120 characters',
      detail = 'business_name_invalid', constraint = 'business_name_invalid', hint = 'Pass a non-empty name of at most 120 characters.';
  end if;
  if business_create.slug is null or business_create.slug !~ '^[a-z0-9-]{3,63}$' then
    raise exception using errcode = '22023', message = format('invalid slug %s', private.excerpt(business_create.slug)),
      detail = 'business_slug_invalid', constraint = 'business_slug_invalid', hint = 'Use 3 to 63 characters: lowercase letters, digits and hyphens.';
  end if;
  if business_create.timezone is null then
    raise exception using errcode = '22023', message = 'timezone is required',
      detail = 'business_timezone_invalid', constraint = 'business_timezone_invalid', hint = 'Use an IANA time zone name such as Europe/Berlin.';
  end if;

  begin
    -- timezone is checked by the businesses_validate_timezone trigger.
    insert into public.businesses (name, slug, timezone)
    values (btrim(business_create.name, E' \t\r\n\f'), business_create.slug, business_create.timezone)
    returning id into v_id;
  exception when unique_violation then
    raise exception using errcode = '23505', message = format('slug %s is taken', private.excerpt(business_create.slug)),
      detail = 'business_slug_taken', constraint = 'business_slug_taken', hint = 'Choose another slug.';
  end;

  insert into public.business_members (business_id, user_id, role)
  values (v_id, v_uid, 'owner');

  insert into public.business_settings (business_id, key, value)
  select v_id, d.key, d.value
  from private.setting_defaults() d;

  return query
    select b.* from public.businesses b where b.id = v_id;
end
$$;
comment on function public.business_create(text, text, text) is
  'Creates a business (tenant) with its default settings; the caller becomes its owner. Errors: 42501 not_authenticated, 22023 business_name_invalid / business_slug_invalid / business_timezone_invalid, 23505 business_slug_taken.';
revoke execute on function public.business_create(text, text, text) from public, anon, authenticated, service_role;
grant execute on function public.business_create(text, text, text) to authenticated;
