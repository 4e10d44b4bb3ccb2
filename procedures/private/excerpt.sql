-- Error messages name the value they refuse, but never echo a whole
-- caller-supplied argument: a 10 MB argument must not come back as a 10 MB
-- error (nor cost its quoting). excerpt(x) is x quoted as a literal when it
-- is short, else its first 40 characters quoted, an ellipsis and its length.
create or replace function private.excerpt(value text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case
    when value is null then 'NULL'
    when char_length(value) <= 40 then pg_catalog.quote_literal(value)
    else pg_catalog.quote_literal(left(value, 40)) || format('… (%s characters)', char_length(value))
  end
$$;
comment on function private.excerpt(text) is
  'For error messages: value quoted as a literal when at most 40 characters, else its first 40 characters quoted, an ellipsis and its length. Never echo a whole argument.';
revoke execute on function private.excerpt(text) from public, anon, authenticated, service_role;
-- Pure and harmless; invoker triggers (appointments_validate_status) call it as
-- the writing role.
grant execute on function private.excerpt(text) to anon, authenticated, service_role;
