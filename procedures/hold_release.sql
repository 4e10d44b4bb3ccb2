create or replace function public.hold_release(hold_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_status text;
  v_customer_id uuid;
  v_business_id uuid;
begin
  -- Members of the business and platform admins can see the hold (RLS), so
  -- for them it exists: 42501. Everyone else: the same error as a missing id.
  select c.business_id, c.customer_id into v_business_id, v_customer_id
  from private.hold_for_caller(hold_release.hold_id) c;
  if v_customer_id <> v_uid then
    raise exception using errcode = '42501', message = 'only the hold''s customer can release it',
      detail = 'hold_owner_required', constraint = 'hold_owner_required', hint = 'Ask the customer to release the hold; it also expires by itself.';
  end if;
  select h.status into v_status from public.holds h where h.id = hold_release.hold_id for update;
  if not found then -- deleted meanwhile (its vehicle, address or service was deleted)
    raise exception using errcode = 'PT404', message = 'hold not found',
      detail = 'hold_not_found', constraint = 'hold_not_found', hint = 'Pass one of your own holds.';
  end if;
  if v_status <> 'active' then
    raise exception using errcode = 'PT409', message = format('the hold is %s', v_status),
      detail = 'hold_not_active', constraint = 'hold_not_active', hint = 'Only an active hold can be released.';
  end if;
  update public.holds h set status = 'released' where h.id = hold_release.hold_id;
end
$$;
comment on function public.hold_release(uuid) is
  'The hold''s customer gives its slot back (status released). Errors: 42501 not_authenticated / hold_owner_required (a member or platform admin who can see the hold), PT404 hold_not_found (missing or invisible to the caller), PT409 hold_not_active.';
revoke execute on function public.hold_release(uuid) from public, anon, authenticated, service_role;
grant execute on function public.hold_release(uuid) to authenticated, service_role;
