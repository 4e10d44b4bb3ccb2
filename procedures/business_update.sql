create or replace function public.business_update(
  business_id uuid,
  name text default null,
  timezone text default null,
  payment_required boolean default null,
  staff_email_domain text default null)
returns setof public.businesses
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_domain text := lower(btrim(business_update.staff_email_domain, E' \t\r\n\f'));
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(business_update.name) > 480 then
    raise exception using errcode = '22023', message = 'name is too long',
      detail = 'business_name_invalid', constraint = 'business_name_invalid', hint = 'Pass at most 120 characters.';
  end if;
  if octet_length(business_update.timezone) > 256 then
    raise exception using errcode = '22023', message = 'timezone is too long',
      detail = 'business_timezone_invalid', constraint = 'business_timezone_invalid', hint = 'Pass at most 64 characters.';
  end if;
  if octet_length(business_update.staff_email_domain) > 1012 then
    raise exception using errcode = '22023', message = 'staff_email_domain is too long',
      detail = 'staff_email_domain_invalid', constraint = 'staff_email_domain_invalid', hint = 'Pass at most 253 characters.';
  end if;
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if business_update.business_id is null then
    raise exception using errcode = '22023', message = 'business_id is required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if not exists (select 1 from public.businesses b where b.id = business_update.business_id) then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  if not exists (
    select 1 from public.business_members m
    where m.business_id = business_update.business_id and m.user_id = v_uid and m.role = 'owner'
  ) then
    raise exception using errcode = '42501', message = 'only an owner of the business can do this',
      detail = 'owner_required', constraint = 'owner_required', hint = 'Ask an owner of the business.';
  end if;
  if business_update.name is not null and char_length(btrim(business_update.name, E' \t\r\n\f')) not between 1 and 120 then
    raise exception using errcode = '22023', message = 'name must be 1 to 120 characters',
      detail = 'business_name_invalid', constraint = 'business_name_invalid', hint = 'Pass a non-empty name of at most 120 characters.';
  end if;
  if v_domain <> '' and v_domain !~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$' then
    raise exception using errcode = '22023', message = format('invalid e-mail domain %s', private.excerpt(business_update.staff_email_domain)),
      detail = 'staff_email_domain_invalid', constraint = 'staff_email_domain_invalid', hint = 'Pass a domain such as example.com, or an empty string to remove the restriction.';
  end if;

  -- timezone is checked by the businesses_validate_timezone trigger.
  update public.businesses b
  set name = coalesce(btrim(business_update.name, E' \t\r\n\f'), b.name),
      timezone = coalesce(business_update.timezone, b.timezone),
      payment_required = coalesce(business_update.payment_required, b.payment_required),
      staff_email_domain = case when v_domain is null then b.staff_email_domain else nullif(v_domain, '') end
  where b.id = business_update.business_id;

  return query
    select b.* from public.businesses b where b.id = business_update.business_id;
end
$$;
comment on function public.business_update(uuid, text, text, boolean, text) is
  'Owner only: changes a business''s name, timezone, payment_required and staff_email_domain. A null argument leaves the value unchanged; staff_email_domain = '''' removes the restriction. Existing bookings are not moved by a time zone change. Errors: 42501 not_authenticated / owner_required, PT404 business_not_found, 22023 argument_required / business_name_invalid / business_timezone_invalid / staff_email_domain_invalid.';
revoke execute on function public.business_update(uuid, text, text, boolean, text) from public, anon, authenticated, service_role;
grant execute on function public.business_update(uuid, text, text, boolean, text) to authenticated;
