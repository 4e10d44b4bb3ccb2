-- Is user a customer of business: someone with a hold, an appointment or a
-- membership there? For procedure bodies that act on a customer (notes,
-- credits): anyone else is "not found", exactly like an unknown id.
create or replace function private.is_customer_of(business_id uuid, customer_id uuid)
returns boolean
language sql
stable
parallel safe
security definer
set search_path = ''
as $$
  select exists (select 1 from public.appointments a
                 where a.business_id = is_customer_of.business_id and a.customer_id = is_customer_of.customer_id)
      or exists (select 1 from public.holds h
                 where h.business_id = is_customer_of.business_id and h.customer_id = is_customer_of.customer_id)
      or exists (select 1 from public.memberships m
                 where m.business_id = is_customer_of.business_id and m.customer_id = is_customer_of.customer_id)
$$;
comment on function private.is_customer_of(uuid, uuid) is
  'True when customer_id has a hold, an appointment or a membership at business_id. For procedure bodies (credits_grant, admin_note_add), which answer customer_not_found otherwise, the same error as for an unknown user.';
revoke execute on function private.is_customer_of(uuid, uuid) from public, anon, authenticated, service_role;
