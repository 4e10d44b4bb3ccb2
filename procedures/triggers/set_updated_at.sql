-- updated_at maintenance for every table that has the column.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
comment on function private.set_updated_at() is
  'BEFORE UPDATE trigger: sets updated_at to the transaction time.';
revoke execute on function private.set_updated_at() from public, anon, authenticated, service_role;

do $$
declare
  t text;
begin
  foreach t in array array[
    'profiles', 'businesses', 'business_members', 'business_settings',
    'vehicles', 'addresses', 'services', 'service_prices', 'addons',
    'working_hours', 'crews', 'blackouts', 'holds', 'appointments',
    'membership_plans', 'memberships', 'coupons', 'payment_sessions', 'notifications']
  loop
    execute format('drop trigger if exists %I on public.%I', t || '_set_updated_at', t);
    execute format(
      'create trigger %I before update on public.%I for each row execute function private.set_updated_at()',
      t || '_set_updated_at', t);
  end loop;
end
$$;
