create or replace function public.appointment_message_post(appointment_id uuid, body text)
returns setof public.appointment_messages
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_business_id uuid;
  v_customer_id uuid;
  v_id uuid;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(appointment_message_post.body) > 8000 then
    raise exception using errcode = '22023', message = 'body is too long',
      detail = 'message_body_invalid', constraint = 'message_body_invalid', hint = 'Pass at most 2000 characters.';
  end if;
  -- Signed in and allowed to see it (else the same error as a missing id).
  select c.business_id, c.customer_id into v_business_id, v_customer_id
  from private.appointment_for_caller(appointment_message_post.appointment_id) c;
  if v_customer_id <> v_uid and not exists (select 1 from public.business_members m
                                            where m.business_id = v_business_id and m.user_id = v_uid) then
    raise exception using errcode = '42501', message = 'only the customer and the business''s members can post',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Platform admins read threads; they do not post in them.';
  end if;
  if appointment_message_post.body is null
     or char_length(btrim(appointment_message_post.body, E' \t\r\n\f')) = 0
     or char_length(appointment_message_post.body) > 2000 then
    raise exception using errcode = '22023', message = 'body must be 1 to 2000 characters',
      detail = 'message_body_invalid', constraint = 'message_body_invalid', hint = 'Write a non-empty message of at most 2000 characters.';
  end if;

  insert into public.appointment_messages (appointment_id, business_id, customer_id, author_id, author_role, body)
  values (appointment_message_post.appointment_id, v_business_id, v_customer_id,
          case when v_customer_id = v_uid then v_uid end,
          case when v_customer_id = v_uid then 'customer' else 'staff' end,
          appointment_message_post.body)
  returning id into v_id;

  return query
    select am.* from public.appointment_messages am where am.id = v_id;
end
$$;
comment on function public.appointment_message_post(uuid, text) is
  'Posts a message to an appointment''s thread: its customer (author_role customer) or any member of its business (author_role staff). Errors: 42501 not_authenticated / permission_required (platform admins read but do not post), PT404 appointment_not_found, 22023 message_body_invalid.';
revoke execute on function public.appointment_message_post(uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.appointment_message_post(uuid, text) to authenticated, service_role;
