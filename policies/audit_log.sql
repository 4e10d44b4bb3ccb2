-- Policies of public.audit_log. Tier 4 (system rows): platform admins read it, and owners (audit.read) the rows of their business (service_role bypasses RLS); nobody writes it but the audit_row trigger, nobody changes it.

drop policy if exists audit_log_select_admin on public.audit_log;
create policy audit_log_select_admin on public.audit_log
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy audit_log_select_admin on public.audit_log is
  'Platform admins (platform_admins, never JWT metadata) read the audit log.';

drop policy if exists audit_log_select_owner on public.audit_log;
create policy audit_log_select_owner on public.audit_log
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids_with('audit.read'))));
comment on policy audit_log_select_owner on public.audit_log is
  'Members holding audit.read (owners; no other role by default) read the audit rows of their business: which staff member acted, which rows customers see only by kind (*_role columns).';
