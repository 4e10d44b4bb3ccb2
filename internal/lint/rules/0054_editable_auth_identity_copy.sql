-- id: 0054
-- name: editable_auth_identity_copy
-- level: warn
-- category: security
-- title: Copy of the sign-in e-mail or phone that its owner may edit
-- analyzer: unguarded_column
-- description: An exposed table keeps a copy of the auth e-mail or phone (a column named email or phone,
--   filled from auth.users by a trigger on auth.users such as handle_new_user, or made UNIQUE), and
--   authenticated may UPDATE it (column privilege and an UPDATE policy). A user sets it to someone else's
--   address: whatever trusts the copy (invitations, notifications, admin lists, joins to find a user by
--   e-mail) now acts on the wrong person, and with a UNIQUE index the real owner's sign-up fails when
--   the trigger copies their address (squatting). A BEFORE UPDATE trigger that raises when NEW.column
--   differs from OLD.column (read on its PL/pgSQL parse tree) counts as a guard. Warn: the harm depends
--   on who trusts the copy.
-- remediation: Revoke update on the column (keep it in sync from auth.users with a trigger on UPDATE of
--   email/phone there), or drop the copy and read auth.users through a SECURITY DEFINER helper.
select n.nspname || '.' || c.relname || '.' || a.attname as object,
       'column' as object_type,
       concat_ws(' and ',
         case when copied.fn is not null then 'copied from auth.users by ' || copied.fn end,
         case when uniq.idx is not null then 'UNIQUE (' || uniq.idx || ')' end) ||
       '; ' || string_agg(distinct r.rolname, ', ') || ' may UPDATE it' as detail,
       a.attname || chr(31) || coalesce((
         select string_agg(pg_get_functiondef(t.tgfoid), chr(30))
         from pg_trigger t join pg_proc p on p.oid = t.tgfoid join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
         where t.tgrelid = c.oid and not t.tgisinternal and (t.tgtype & 2) <> 0 and (t.tgtype & 16) <> 0), '') as input
from pg_attribute a
join pg_class c on c.oid = a.attrelid and c.relkind in ('r', 'p')
join pg_namespace n on n.oid = c.relnamespace
join pg_roles r on r.rolname = any($2::text[]) and (has_column_privilege(r.oid, c.oid, a.attnum, 'UPDATE') and pg_temp.dbtool_usage(r.oid, c.relnamespace))
left join lateral (
  select string_agg(distinct fn.nspname || '.' || p.proname || '()', ', ') as fn
  from pg_trigger t
  join pg_proc p on p.oid = t.tgfoid
  join pg_namespace fn on fn.oid = p.pronamespace
  where t.tgrelid = to_regclass('auth.users') and not t.tgisinternal
    and p.prosrc ~* ('\m' || c.relname || '\M')
    and p.prosrc ~* ('new\s*\.\s*' || case when a.attname ~* 'phone' then 'phone' else 'email' end)
) copied on true
left join lateral (
  select string_agg(ci.relname, ', ') as idx
  from pg_index i join pg_class ci on ci.oid = i.indexrelid
  where i.indrelid = c.oid and i.indisunique and i.indpred is null and i.indkey[0] = a.attnum and i.indnkeyatts = 1
) uniq on true
where n.nspname = any($1::text[])
  and a.attnum > 0 and not a.attisdropped
  and a.attname ~* '^(email|email_address|phone|phone_number|mobile)$'
  and (copied.fn is not null or uniq.idx is not null)
  and (not c.relrowsecurity or exists (
        select 1 from pg_policy pol
        where pol.polrelid = c.oid and pol.polcmd in ('w', '*') and pol.polpermissive
          and (pol.polroles = '{0}' or r.oid = any(pol.polroles))))
group by n.nspname, c.relname, c.oid, a.attname, copied.fn, uniq.idx
