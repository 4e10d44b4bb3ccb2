create or replace function public.audit_partitions_ensure(months_ahead integer default 3)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_created integer := 0;
  v_month date;
  v_from timestamptz;
  v_to timestamptz;
  v_name text;
begin
  -- Scheduler only: EXECUTE is granted to service_role alone.
  if audit_partitions_ensure.months_ahead is null or audit_partitions_ensure.months_ahead not between 0 and 24 then
    raise exception using errcode = '22023', message = 'months_ahead must be 0 to 24',
      detail = 'months_ahead_invalid', constraint = 'months_ahead_invalid', hint = 'Pass how many months after this one need a partition, e.g. 3.';
  end if;
  for i in 0 .. audit_partitions_ensure.months_ahead loop
    v_month := (date_trunc('month', now() at time zone 'UTC') + make_interval(months => i))::date;
    v_name := 'audit_log_p' || to_char(v_month, 'YYYYMM');
    v_from := (v_month::text || ' 00:00:00+00')::timestamptz;
    v_to := ((v_month + interval '1 month')::date::text || ' 00:00:00+00')::timestamptz;
    if exists (select 1 from pg_catalog.pg_class c
               join pg_catalog.pg_namespace n on n.oid = c.relnamespace
               where n.nspname = 'private' and c.relname = v_name) then
      continue;
    end if;
    -- Rows of that month already in the default partition would block the
    -- new partition; leave that month in the default partition.
    if exists (select 1 from private.audit_log_default d where d.created_at >= v_from and d.created_at < v_to) then
      continue;
    end if;
    execute format('create table private.%I partition of public.audit_log for values from (%L) to (%L)',
                   v_name, v_from, v_to);
    execute format('alter table private.%I enable row level security', v_name);
    execute format('revoke all on table private.%I from public, anon, authenticated, service_role', v_name);
    execute format(
      'create trigger audit_log_append_only_truncate before truncate on private.%I for each statement execute function private.refuse_change(%L)',
      v_name, 'audit_log_append_only');
    v_created := v_created + 1;
  end loop;
  return v_created;
end
$$;
comment on function public.audit_partitions_ensure(integer) is
  'Scheduler (service_role only): creates the monthly partitions of audit_log (private.audit_log_pYYYYMM, UTC months) for this month and months_ahead months after it, when missing, and returns how many it created. A month whose rows already sit in the default partition stays there. Inserts never depend on it: private.audit_log_default takes any row. Errors: 22023 months_ahead_invalid.';
revoke execute on function public.audit_partitions_ensure(integer) from public, anon, authenticated, service_role;
grant execute on function public.audit_partitions_ensure(integer) to service_role;
