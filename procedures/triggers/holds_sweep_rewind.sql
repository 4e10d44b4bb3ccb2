-- A hold written with an expiry already in the past (SQL by the owner or
-- service_role, a test moving time) might lie behind the sweep's mark: move
-- the mark back so the next holds_expire sees it. The WHEN clause keeps the
-- trigger out of every ordinary write (a new hold expires in the future).
create or replace function private.holds_sweep_rewind()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update private.holds_sweep s
  set swept_until = new.expires_at - interval '1 microsecond'
  where s.swept_until >= new.expires_at;
  return null;
end
$$;
comment on function private.holds_sweep_rewind() is
  'AFTER INSERT / UPDATE OF expires_at trigger on holds, for expiries already past: moves private.holds_sweep.swept_until back before the hold''s expiry, so holds_expire still sweeps it.';
revoke execute on function private.holds_sweep_rewind() from public, anon, authenticated, service_role;

drop trigger if exists holds_sweep_rewind on public.holds;
create trigger holds_sweep_rewind
  after insert or update of expires_at on public.holds
  for each row when (new.expires_at <= now())
  execute function private.holds_sweep_rewind();
