create or replace function public.availability_get(
  business_id uuid,
  service_id uuid,
  day date,
  addon_ids uuid[] default null,
  out slot_start timestamptz,
  out slot_end timestamptz,
  out free_crews integer)
returns setof record
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_tz text;
  v_minutes integer;
  v_addon_ids uuid[];
  v_addon_count integer;
  v_addon_minutes integer;
  v_duration interval;
  v_open tstzmultirange;
begin
  if availability_get.business_id is null or availability_get.service_id is null or availability_get.day is null then
    raise exception using errcode = '22023', message = 'business_id, service_id and day are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  select b.timezone into v_tz from public.businesses b where b.id = availability_get.business_id;
  if not found then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  -- Nothing is bookable beyond the booking horizon (nor a year back):
  -- no slots, before any date arithmetic on an extreme day.
  if availability_get.day > current_date + private.setting(availability_get.business_id, 'booking_horizon_days') + 1
     or availability_get.day < current_date - 366 then
    return;
  end if;
  select s.duration_minutes into v_minutes
  from public.services s
  where s.id = availability_get.service_id
    and s.business_id = availability_get.business_id
    and s.active;
  if not found then
    raise exception using errcode = 'PT404', message = 'service not found',
      detail = 'service_not_found', constraint = 'service_not_found', hint = 'Pass an active service of this business.';
  end if;
  v_addon_ids := array(select distinct x from unnest(coalesce(availability_get.addon_ids, '{}')) as x where x is not null);
  select count(*), coalesce(sum(a.duration_minutes), 0) into v_addon_count, v_addon_minutes
  from public.addons a
  where a.id = any (v_addon_ids)
    and a.business_id = availability_get.business_id
    and a.active;
  if v_addon_count <> cardinality(v_addon_ids) then
    raise exception using errcode = 'PT404', message = 'add-on not found',
      detail = 'addon_not_found', constraint = 'addon_not_found', hint = 'Pass active add-ons of this business.';
  end if;

  v_duration := make_interval(mins => v_minutes + v_addon_minutes);
  v_open := private.business_open_ranges(availability_get.business_id, availability_get.day);

  -- Candidate starts every 15 minutes inside each working
  -- interval; a slot is offered when it fits the (merged) working hours, is
  -- in the future and at least one crew is free for all of it.
  return query
    select c.start_at, c.start_at + v_duration, c.free::integer
    from (
      select st.start_at,
             (select count(*)
              from private.free_crew_ids(availability_get.business_id, tstzrange(st.start_at, st.start_at + v_duration))) as free
      from (
        -- Steps of real time between the interval's local bounds: on the day
        -- clocks go back the repeated hour is offered twice (it exists twice),
        -- on the day they go forward the missing hour is not offered.
        select distinct g.start_at
        from public.working_hours wh
        cross join lateral generate_series(
          (availability_get.day + wh.opens) at time zone v_tz,
          ((availability_get.day + wh.closes) at time zone v_tz) - interval '15 minutes',
          interval '15 minutes') as g(start_at)
        where wh.business_id = availability_get.business_id
          and wh.weekday = extract(dow from availability_get.day)::smallint
      ) st
      where st.start_at > now()
        and v_open @> tstzrange(st.start_at, st.start_at + v_duration)
    ) c
    where c.free > 0
    order by c.start_at;
end
$$;
comment on function public.availability_get(uuid, uuid, date, uuid[]) is
  'Bookable slots of a service (plus optional add-ons, which lengthen it) on a local calendar day of the business: working hours minus blackouts, booked appointments and live holds, per crew, in the business''s time zone, on a 15-minute grid. Returns slot_start, slot_end and free_crews (> 0); no personal data. Anyone may call it. Errors: 22023 argument_required, PT404 business_not_found / service_not_found / addon_not_found.';
revoke execute on function public.availability_get(uuid, uuid, date, uuid[]) from public, anon, authenticated, service_role;
grant execute on function public.availability_get(uuid, uuid, date, uuid[]) to anon, authenticated, service_role;
