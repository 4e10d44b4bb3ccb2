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
  if v_uid is null then
    raise exception using errcode = '42501', message = 'not signed in',
      constraint = 'not_authenticated', hint = 'Call with a user''s JWT (a sub claim).';
  end if;
  if admin_note_add.business_id is null or admin_note_add.customer_id is null or admin_note_add.body is null then
    raise exception using errcode = '22023', message = 'business_id, customer_id and body are required',
      constraint = 'argument_required', hint = 'Pass every required argument.';
  end if;
  if not exists (select 1 from public.businesses b where b.id = admin_note_add.business_id) then
    raise exception using errcode = 'P0002', message = 'business not found',
      constraint = 'business_not_found', hint = 'Check the business id.';
  end if;
  if not private.has_permission(admin_note_add.business_id, 'notes.manage') then
    raise exception using errcode = '42501', message = 'permission notes.manage required',
      constraint = 'permission_required', hint = 'Ask an owner for a role with notes.manage.';
  end if;
  if char_length(btrim(admin_note_add.body, E' \t\r\n\f')) = 0 or char_length(admin_note_add.body) > 4000 then
    raise exception using errcode = '22023', message = 'body must be 1 to 4000 characters',
      constraint = 'note_body_invalid', hint = 'Write a non-empty note of at most 4000 characters.';
  end if;
  -- Notes are about the business's own customers: someone with a hold, an
  -- appointment or a membership there. Anyone else is "not found".
  if not exists (select 1 from public.appointments a
                 where a.business_id = admin_note_add.business_id and a.customer_id = admin_note_add.customer_id)
     and not exists (select 1 from public.holds h
                     where h.business_id = admin_note_add.business_id and h.customer_id = admin_note_add.customer_id)
     and not exists (select 1 from public.memberships m
                     where m.business_id = admin_note_add.business_id and m.customer_id = admin_note_add.customer_id) then
    raise exception using errcode = 'P0002', message = 'customer not found',
      constraint = 'customer_not_found', hint = 'Notes are kept on customers with a booking or membership at this business.';
  end if;

  insert into public.admin_notes (business_id, customer_id, author_id, body)
  values (admin_note_add.business_id, admin_note_add.customer_id, v_uid, admin_note_add.body)
  returning * into v_note;
  return next v_note;
end
$$;
comment on function public.admin_note_add(uuid, uuid, text) is
  'Members with notes.manage: adds an internal note about a customer of the business (someone with a hold, appointment or membership there). Errors: 42501 not_authenticated / permission_required, 22023 argument_required / note_body_invalid, P0002 business_not_found / customer_not_found.';
revoke execute on function public.admin_note_add(uuid, uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.admin_note_add(uuid, uuid, text) to authenticated;
