-- Policies of public.appointment_messages. Tier 1/2 (read-only): the customer and the business's members read; written only by appointment_message_post.

drop policy if exists appointment_messages_select_customer on public.appointment_messages;
create policy appointment_messages_select_customer on public.appointment_messages
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy appointment_messages_select_customer on public.appointment_messages is
  'A customer reads their own appointment_messages.';

drop policy if exists appointment_messages_select_member on public.appointment_messages;
create policy appointment_messages_select_member on public.appointment_messages
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids())));
comment on policy appointment_messages_select_member on public.appointment_messages is
  'Members of a business read its appointment_messages.';

drop policy if exists appointment_messages_select_admin on public.appointment_messages;
create policy appointment_messages_select_admin on public.appointment_messages
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy appointment_messages_select_admin on public.appointment_messages is
  'Platform admins (platform_admins, never JWT metadata) read every message for support; they change them only through procedures.';
