create or replace function public.hold_create(
  business_id uuid,
  service_id uuid,
  slot_start timestamptz,
  vehicle_id uuid,
  address_id uuid,
  addon_ids uuid[] default null)
returns setof public.holds
language plpgsql
volatile
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
  v_uid uuid := auth.uid();
  v_business_found boolean;
  v_tz text;
  v_service_minutes integer;
  v_vehicle_found boolean;
  v_vehicle_type text;
  v_address_found boolean;
  v_price integer;
  v_horizon_days integer;
  v_hold_minutes integer;
  v_max_holds integer;
  v_max_upcoming integer;
  v_addon_ids uuid[];
  v_addon_count integer;
  v_addon_minutes integer := 0;
  v_addon_price integer := 0;
  v_local timestamp;
  v_slot tstzrange;
  v_open boolean;
  v_active_holds bigint;
  v_upcoming bigint;
  v_crew uuid;
  v_hold public.holds%rowtype;
begin
  -- Identity: always the JWT sub, service_role included.
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with the customer''s JWT (a sub claim); service_role must pass the customer as sub too.';
  end if;
  if hold_create.business_id is null or hold_create.service_id is null or hold_create.slot_start is null
     or hold_create.vehicle_id is null or hold_create.address_id is null then
    raise exception using errcode = '22023', message = 'business_id, service_id, slot_start, vehicle_id and address_id are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;

  -- What is booked, and for how much (validated before anything is written):
  -- the business, service, vehicle, address, price and the business's
  -- settings in one statement (one row, whatever is missing), then checked
  -- in this order.
  select b.id is not null, b.timezone, s.duration_minutes, v.id is not null, v.vehicle_type, a.id is not null,
         sp.price_cents, st.horizon_days, st.hold_minutes, st.max_holds, st.max_upcoming
  into v_business_found, v_tz, v_service_minutes, v_vehicle_found, v_vehicle_type, v_address_found,
       v_price, v_horizon_days, v_hold_minutes, v_max_holds, v_max_upcoming
  from (select) as one
  left join public.businesses b on b.id = hold_create.business_id
  left join public.services s
    on s.id = hold_create.service_id and s.business_id = hold_create.business_id and s.active
  left join public.vehicles v on v.id = hold_create.vehicle_id and v.user_id = v_uid
  left join public.addresses a on a.id = hold_create.address_id and a.user_id = v_uid
  left join public.service_prices sp on sp.service_id = hold_create.service_id and sp.vehicle_type = v.vehicle_type
  cross join (
    select max(bs.value) filter (where bs.key = 'booking_horizon_days') as horizon_days,
           max(bs.value) filter (where bs.key = 'hold_minutes') as hold_minutes,
           max(bs.value) filter (where bs.key = 'max_active_holds_per_customer') as max_holds,
           max(bs.value) filter (where bs.key = 'max_upcoming_appointments_per_customer') as max_upcoming
    from public.business_settings bs
    where bs.business_id = hold_create.business_id) as st;
  if not v_business_found then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  if v_service_minutes is null then
    raise exception using errcode = 'PT404', message = 'service not found',
      detail = 'service_not_found', constraint = 'service_not_found', hint = 'Pass an active service of this business.';
  end if;
  if not v_vehicle_found then
    raise exception using errcode = 'PT404', message = 'vehicle not found',
      detail = 'vehicle_not_found', constraint = 'vehicle_not_found', hint = 'Pass one of your own vehicles.';
  end if;
  if not v_address_found then
    raise exception using errcode = 'PT404', message = 'address not found',
      detail = 'address_not_found', constraint = 'address_not_found', hint = 'Pass one of your own addresses.';
  end if;
  if v_price is null then
    raise exception using errcode = 'P0001', message = format('this service is not offered for a %s', v_vehicle_type),
      detail = 'service_price_missing', constraint = 'service_price_missing', hint = 'Choose another service or vehicle.';
  end if;
  -- A setting without a row has its default (the one place defaults live:
  -- private.setting).
  v_horizon_days := coalesce(v_horizon_days, private.setting(hold_create.business_id, 'booking_horizon_days'));
  v_hold_minutes := coalesce(v_hold_minutes, private.setting(hold_create.business_id, 'hold_minutes'));
  v_max_holds := coalesce(v_max_holds, private.setting(hold_create.business_id, 'max_active_holds_per_customer'));
  v_max_upcoming := coalesce(v_max_upcoming, private.setting(hold_create.business_id, 'max_upcoming_appointments_per_customer'));

  v_addon_ids := '{}';
  if cardinality(hold_create.addon_ids) > 0 then
    v_addon_ids := array(select distinct x from unnest(hold_create.addon_ids) as x where x is not null);
  end if;
  if cardinality(v_addon_ids) > 0 then
    select count(*), coalesce(sum(a.duration_minutes), 0), coalesce(sum(a.price_cents), 0)
    into v_addon_count, v_addon_minutes, v_addon_price
    from public.addons a
    where a.id = any (v_addon_ids) and a.business_id = hold_create.business_id and a.active;
    if v_addon_count <> cardinality(v_addon_ids) then
      raise exception using errcode = 'PT404', message = 'add-on not found',
        detail = 'addon_not_found', constraint = 'addon_not_found', hint = 'Pass active add-ons of this business.';
    end if;
  end if;

  -- When.
  if hold_create.slot_start > now() + make_interval(days => v_horizon_days) then
    raise exception using errcode = 'P0001', message = 'the slot is beyond the business''s booking horizon',
      detail = 'booking_horizon_exceeded', constraint = 'booking_horizon_exceeded',
      hint = 'Book at most booking_horizon_days ahead (a business setting, 365 days unless changed).';
  end if;
  v_local := hold_create.slot_start at time zone v_tz;
  if v_local <> date_trunc('minute', v_local) or extract(minute from v_local)::integer % 15 <> 0 then
    raise exception using errcode = '22023', message = 'slot_start must be on a quarter hour of the business''s local time',
      detail = 'slot_invalid', constraint = 'slot_invalid', hint = 'Pass a slot_start returned by availability_get.';
  end if;
  if hold_create.slot_start <= now() then
    raise exception using errcode = 'P0001', message = 'slot_start is in the past',
      detail = 'slot_in_past', constraint = 'slot_in_past', hint = 'Pick a slot from availability_get.';
  end if;
  v_slot := tstzrange(hold_create.slot_start,
                      hold_create.slot_start + make_interval(mins => v_service_minutes + v_addon_minutes));

  -- The customer lock: the customer's caps stay true until we commit (the
  -- crew is locked by private.crew_claim below).
  perform private.booking_lock(hold_create.business_id, v_slot, v_uid);

  -- Working hours and the customer's open holds and upcoming appointments,
  -- in one statement taken after the lock (so the counts see every booking
  -- of this customer that committed before it).
  select private.business_open_ranges(hold_create.business_id, v_local::date) @> v_slot,
         (select count(*) from public.holds h
          where h.customer_id = v_uid and h.business_id = hold_create.business_id
            and h.status = 'active' and h.expires_at > now()),
         (select count(*) from public.appointments a
          where a.customer_id = v_uid and a.business_id = hold_create.business_id
            and a.status in ('confirmed', 'in_progress') and lower(a.slot) > now())
  into v_open, v_active_holds, v_upcoming;
  if not v_open then
    raise exception using errcode = 'P0001', message = 'the slot is outside working hours',
      detail = 'slot_outside_working_hours', constraint = 'slot_outside_working_hours', hint = 'Pick a slot from availability_get.';
  end if;

  -- Per-customer caps (server code running as service_role may exceed them).
  if not private.is_service_role() then
    if v_active_holds >= v_max_holds then
      raise exception using errcode = 'P0001', message = 'too many open holds',
        detail = 'hold_cap_reached', constraint = 'hold_cap_reached', hint = 'Confirm or release one of your holds first.';
    end if;
    if v_upcoming >= v_max_upcoming then
      raise exception using errcode = 'P0001', message = 'too many upcoming appointments',
        detail = 'appointment_cap_reached', constraint = 'appointment_cap_reached', hint = 'Wait until an appointment is done, or cancel one.';
    end if;
  end if;

  -- The first free crew, locked for the slot until we commit.
  v_crew := private.crew_claim(hold_create.business_id, v_slot);
  if v_crew is null then
    raise exception using errcode = 'PT409', message = 'the slot is no longer available',
      detail = 'slot_unavailable', constraint = 'slot_unavailable', hint = 'Pick another slot from availability_get.';
  end if;

  insert into public.holds
    (business_id, customer_id, service_id, vehicle_id, address_id, crew_id, slot, price_cents, expires_at)
  values
    (hold_create.business_id, v_uid, hold_create.service_id, hold_create.vehicle_id, hold_create.address_id,
     v_crew, v_slot, v_price + v_addon_price,
     now() + make_interval(mins => v_hold_minutes))
  returning * into v_hold;

  if cardinality(v_addon_ids) > 0 then
    insert into public.hold_addons (hold_id, addon_id, business_id, customer_id, price_cents, duration_minutes)
    select v_hold.id, a.id, a.business_id, v_uid, a.price_cents, a.duration_minutes
    from public.addons a
    where a.id = any (v_addon_ids);
  end if;

  return next v_hold;
end
$$;
comment on function public.hold_create(uuid, uuid, timestamptz, uuid, uuid, uuid[]) is
  'Reserves a slot for the caller (the JWT sub, also under service_role) for hold_minutes: vehicle and address must be the caller''s; the slot must be on the 15-minute grid, in the future, inside working hours, and have a free crew (assigned to the hold). Price = service price for the vehicle''s type + add-ons, computed here. Serialised per customer (private.booking_lock) and per crew and overlapping time (private.crew_claim). Caps max_active_holds_per_customer and max_upcoming_appointments_per_customer apply except under service_role. Errors: 42501 not_authenticated, 22023 argument_required / slot_invalid, PT404 business_not_found / service_not_found / vehicle_not_found / address_not_found / addon_not_found, P0001 service_price_missing / slot_in_past / slot_outside_working_hours / hold_cap_reached / appointment_cap_reached, PT409 slot_unavailable.';
revoke execute on function public.hold_create(uuid, uuid, timestamptz, uuid, uuid, uuid[]) from public, anon, authenticated, service_role;
grant execute on function public.hold_create(uuid, uuid, timestamptz, uuid, uuid, uuid[]) to authenticated, service_role;
