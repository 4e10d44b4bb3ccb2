-- private.hold_for_caller(hold_id): the one rule for who may see a hold in a
-- procedure, as its RLS policies say: its customer, members of its business
-- and platform admins. It raises 42501 not_authenticated without a
-- signed-in caller and, for everyone who may not see the hold, PT404
-- hold_not_found, the same error as for a missing id. Each procedure then
-- checks what the caller may do (42501 hold_owner_required).
create or replace function private.hold_for_caller(hold_id uuid, out business_id uuid, out customer_id uuid)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with the customer''s JWT (a sub claim).';
  end if;
  select h.business_id, h.customer_id into hold_for_caller.business_id, hold_for_caller.customer_id
  from public.holds h where h.id = hold_for_caller.hold_id;
  -- Tested step by step (not as one OR): the membership query runs only for
  -- someone else's hold, and every statement keeps one cached plan (as one
  -- expression, folded to a constant for the hold's own customer, it was
  -- planned again on every call).
  if hold_for_caller.business_id is null then
    raise exception using errcode = 'PT404', message = 'hold not found',
      detail = 'hold_not_found', constraint = 'hold_not_found', hint = 'Pass one of your own holds.';
  end if;
  if hold_for_caller.customer_id <> v_uid then
    if not exists (select 1 from public.business_members m
                   where m.business_id = hold_for_caller.business_id and m.user_id = v_uid)
       and not private.is_platform_admin() then
      raise exception using errcode = 'PT404', message = 'hold not found',
        detail = 'hold_not_found', constraint = 'hold_not_found', hint = 'Pass one of your own holds.';
    end if;
  end if;
end
$$;
comment on function private.hold_for_caller(uuid) is
  'The hold''s business and customer when the caller may see it (its customer, a member of its business, a platform admin); else PT404 hold_not_found (42501 not_authenticated without a caller). Used by hold_confirm and hold_release.';
revoke execute on function private.hold_for_caller(uuid) from public, anon, authenticated, service_role;
