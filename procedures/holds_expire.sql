create or replace function public.holds_expire()
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.holds h
  set status = 'expired'
  where h.status = 'active'
    and h.expires_at <= now();
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function public.holds_expire() is
  'For a scheduler (service_role): marks active holds past expires_at as expired and returns how many. Availability already ignores such holds; this keeps the table honest. Runs with the caller''s rights (service_role needs no elevation).';
revoke execute on function public.holds_expire() from public, anon, authenticated, service_role;
grant execute on function public.holds_expire() to service_role;
