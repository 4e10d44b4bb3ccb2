create or replace function public.business_stats_refresh()
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  -- CONCURRENTLY: readers of business_stats are never blocked.
  refresh materialized view concurrently private.business_stats_daily;
end
$$;
comment on function public.business_stats_refresh() is
  'Scheduler (service_role only): recomputes private.business_stats_daily (REFRESH MATERIALIZED VIEW CONCURRENTLY, readers are not blocked). Runs as the view''s owner (SECURITY DEFINER).';
revoke execute on function public.business_stats_refresh() from public, anon, authenticated, service_role;
grant execute on function public.business_stats_refresh() to service_role;
