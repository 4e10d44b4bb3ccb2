create or replace function public.admin_note_add(business_id uuid, customer_id uuid, body text)
returns setof public.admin_notes
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_note public.admin_notes%rowtype;
begin
  -- Arguments are bounded before any work on them (a 10 MB argument costs
  -- nothing); the precise checks below say what is wrong.
  if octet_length(admin_note_add.body) > 16000 then
    raise exception using errcode = '22023', message = 'body is too long',
      detail = 'note_body_invalid', constraint = 'note_body_invalid', hint = 'Pass at most 4000 characters.';
  end if;
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      detail = 'not_authenticated', constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if admin_note_add.business_id is null or admin_note_add.customer_id is null or admin_note_add.body is null then
    raise exception using errcode = '22023', message = 'business_id, customer_id and body are required',
      detail = 'argument_required', constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if not exists (select 1 from public.businesses b where b.id = admin_note_add.business_id) then
    raise exception using errcode = 'PT404', message = 'business not found',
      detail = 'business_not_found', constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  if not private.has_permission(admin_note_add.business_id, 'notes.manage') then
    raise exception using errcode = '42501', message = 'permission notes.manage required',
      detail = 'permission_required', constraint = 'permission_required', hint = 'Ask an owner for a role with notes.manage.';
  end if;
  if char_length(btrim(admin_note_add.body, E' \t\r\n\f')) = 0 or char_length(admin_note_add.body) > 4000 then
    raise exception using errcode = '22023', message = 'body must be 1 to 4000 characters',
      detail = 'note_body_invalid', constraint = 'note_body_invalid', hint = 'Write a non-empty note of at most 4000 characters.';
  end if;
  -- Notes are about the business's own customers: someone with a hold, an
  -- appointment or a membership there. Anyone else is "not found".
  if not private.is_customer_of(admin_note_add.business_id, admin_note_add.customer_id) then
    raise exception using errcode = 'PT404', message = 'customer not found',
      detail = 'customer_not_found', constraint = 'customer_not_found', hint = 'Notes are kept on customers with a booking or membership at this business.';
  end if;

  insert into public.admin_notes (business_id, customer_id, author_id, body)
  values (admin_note_add.business_id, admin_note_add.customer_id, v_uid, admin_note_add.body)
  returning * into v_note;
  return next v_note;
end
$$;
comment on function public.admin_note_add(uuid, uuid, text) is
  'Members with notes.manage: adds an internal note about a customer of the business (someone with a hold, appointment or membership there). Errors: 42501 not_authenticated / permission_required, 22023 argument_required / note_body_invalid, PT404 business_not_found / customer_not_found.';
revoke execute on function public.admin_note_add(uuid, uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.admin_note_add(uuid, uuid, text) to authenticated;
