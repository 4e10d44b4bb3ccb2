create or replace function public.business_stats(
  business_id uuid,
  from_day date,
  to_day date,
  out day date,
  out bookings integer,
  out revenue_cents bigint,
  out cancellations integer)
returns setof record
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if auth.uid() is null and not private.is_service_role() then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim) or the service_role key.';
  end if;
  if business_stats.business_id is null or business_stats.from_day is null or business_stats.to_day is null then
    raise exception using errcode = '22023', message = 'business_id, from_day and to_day are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if not exists (select 1 from public.businesses b where b.id = business_stats.business_id) then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  if not private.is_service_role() and not private.is_platform_admin()
     and not private.has_permission(business_stats.business_id, 'billing.view') then
    raise exception using errcode = '42501', message = 'permission billing.view required',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Ask an owner for a role with billing.view.';
  end if;
  if business_stats.to_day < business_stats.from_day or business_stats.to_day - business_stats.from_day > 366 then
    raise exception using errcode = '22023', message = 'to_day must be on or after from_day, at most 366 days later',
      detail = 'stats_range_invalid', constraint = 'stats_range_invalid', hint = 'Ask for at most a year at a time.';
  end if;

  -- Every day of the range, zeros where nothing happened.
  return query
    select d.day::date,
           coalesce(s.bookings, 0),
           coalesce(s.revenue_cents, 0::bigint),
           coalesce(s.cancellations, 0)
    from generate_series(business_stats.from_day, business_stats.to_day, interval '1 day') as d(day)
    left join private.business_stats_daily s
      on s.business_id = business_stats.business_id and s.day = d.day::date
    order by d.day;
end
$$;
comment on function public.business_stats(uuid, date, date) is
  'Per local day in [from_day, to_day] (at most 367 days) of a business: bookings (appointments starting that day, not cancelled), revenue_cents (their amount_due_cents) and cancellations. Served from the materialized view private.business_stats_daily (as fresh as the last business_stats_refresh), which clients cannot read directly. Members with billing.view, platform admins, service_role. Errors: 42501 not_authenticated / permission_required, 22023 argument_required / stats_range_invalid, PT404 business_not_found.';
revoke execute on function public.business_stats(uuid, date, date) from public, anon, authenticated, service_role;
grant execute on function public.business_stats(uuid, date, date) to authenticated, service_role;
