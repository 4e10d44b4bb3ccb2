create or replace function public.holds_expire()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_now timestamptz := now();
  v_from timestamptz;
  v_count integer;
begin
  -- One sweep at a time; each looks only at expiries after the mark the
  -- previous one left (an index range scan on holds_expires_at_idx, however
  -- many confirmed and expired holds the table keeps).
  select s.swept_until into v_from from private.holds_sweep s for update;
  update public.holds h
  set status = 'expired'
  where h.expires_at > v_from
    and h.expires_at <= v_now
    and h.status = 'active';
  get diagnostics v_count = row_count;
  -- An hour's margin: a hold inserted by a transaction still open now
  -- (invisible to this sweep) is seen by the next ones.
  update private.holds_sweep s set swept_until = greatest(s.swept_until, v_now - interval '1 hour');
  return v_count;
end
$$;
comment on function public.holds_expire() is
  'For a scheduler (service_role): marks active holds past expires_at as expired and returns how many. Availability already ignores such holds; this keeps the table honest. Scans only expiries since its previous run (less an hour), from private.holds_sweep; a hold written with an expiry already in the past moves that mark back (holds_sweep_rewind trigger).';
revoke execute on function public.holds_expire() from public, anon, authenticated, service_role;
grant execute on function public.holds_expire() to service_role;
