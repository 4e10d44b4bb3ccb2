-- A business's time zone must be a name PostgreSQL knows (a CHECK cannot
-- query pg_timezone_names). Holds on every write path.
create or replace function private.businesses_validate_timezone()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_timezone_names tz where tz.name = new.timezone) then
    raise exception using
      errcode = '22023',
      message = format('unknown time zone %s', private.excerpt(new.timezone)),
      detail = 'business_timezone_invalid', constraint = 'business_timezone_invalid',
      hint = 'Use an IANA time zone name such as Europe/Berlin (see pg_timezone_names).';
  end if;
  return new;
end
$$;
comment on function private.businesses_validate_timezone() is
  'BEFORE INSERT/UPDATE OF timezone trigger on businesses: refuses a time zone missing from pg_timezone_names (22023 business_timezone_invalid).';
revoke execute on function private.businesses_validate_timezone() from public, anon, authenticated, service_role;

drop trigger if exists businesses_validate_timezone on public.businesses;
create trigger businesses_validate_timezone
  before insert or update of timezone on public.businesses
  for each row execute function private.businesses_validate_timezone();
