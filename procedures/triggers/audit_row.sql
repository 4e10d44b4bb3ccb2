-- The audit log: who did what on the tables that carry money, credits,
-- bookings, membership of businesses and settings.
create or replace function private.audit_row()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) end;
  v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) end;
begin
  insert into public.audit_log (actor_id, actor_role, business_id, table_name, operation, old_row, new_row)
  values (
    auth.uid(),
    coalesce(auth.role(), nullif(current_setting('role', true), 'none'), session_user),
    (coalesce(v_new, v_old) ->> 'business_id')::uuid,
    tg_table_name,
    tg_op,
    v_old,
    v_new);
  return null;
end
$$;
comment on function private.audit_row() is
  'AFTER INSERT/UPDATE/DELETE row trigger: appends to audit_log the actor (JWT sub; JWT role claim, else the session role), the row''s business_id, the table, the operation and the row before and after as jsonb.';
revoke execute on function private.audit_row() from public, anon, authenticated, service_role;

do $$
declare
  t text;
begin
  foreach t in array array[
    'appointments', 'payment_sessions', 'payment_events', 'credit_ledger',
    'memberships', 'business_members', 'business_settings', 'appointment_messages']
  loop
    execute format('drop trigger if exists %I on public.%I', t || '_audit', t);
    execute format(
      'create trigger %I after insert or update or delete on public.%I for each row execute function private.audit_row()',
      t || '_audit', t);
  end loop;
end
$$;
