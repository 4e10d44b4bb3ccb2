-- When a business is open on a local calendar day, as absolute time.
create or replace function private.business_open_ranges(business_id uuid, day date)
returns tstzmultirange
language plpgsql
stable
parallel safe
security definer
set search_path = ''
as $$
begin
  -- PL/pgSQL, not SQL: the plan is kept for the session instead of being
  -- made again on every call (a SECURITY DEFINER SQL function is never inlined).
  return (
  select coalesce(
    range_agg(tstzrange(
      (business_open_ranges.day + wh.opens) at time zone b.timezone,
      (business_open_ranges.day + wh.closes) at time zone b.timezone)),
    '{}'::tstzmultirange)
  from public.businesses b
  join public.working_hours wh on wh.business_id = b.id
  where b.id = business_open_ranges.business_id
    and wh.weekday = extract(dow from business_open_ranges.day)::smallint);
end
$$;
comment on function private.business_open_ranges(uuid, date) is
  'The working hours of business_id on the local calendar day (its time zone, DST-aware), merged into one multirange of absolute times. Blackouts are not subtracted (see private.free_crew_ids).';
revoke execute on function private.business_open_ranges(uuid, date) from public, anon, authenticated, service_role;
