-- id: 0029
-- name: secret_column_readable
-- level: warn
-- category: security
-- title: Secret-looking column readable by API roles
-- description: A column whose name says it holds a secret (token, secret, hash, password, totp, key,
--   api_key, otp, recovery, salt: matched on whole underscore-separated parts, so monkey or keyword do
--   not count, nor token_expires_at or key_id; a bare key or hash column counts only in a table about
--   keys, tokens, secrets or credentials, so settings.key does not) is readable by an API role. Row level security limits
--   which rows, not which columns: the owner of a row (or anyone the policies let in) reads the secret,
--   and one permissive policy too many leaks every row's.
-- remediation: Revoke SELECT on the table and grant it on the other columns (grant select (id, name) on
--   ... to authenticated), or move secrets to a table or schema the API does not expose.
with col as (
  select c.oid, n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relispartition, a.attnum, a.attname,
         string_to_array(lower(a.attname), '_') as parts, t.typcategory as typcat,
         c.relkind = 'v' and coalesce((select lower(o.option_value) in ('on', 'true', 'yes', '1')
                      from pg_options_to_table(c.reloptions) o where o.option_name = 'security_invoker'), false) as invoker
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid
  join pg_namespace n on n.oid = c.relnamespace
  join pg_type t on t.oid = a.atttypid
  where n.nspname = any($1::text[])
    and c.relkind in ('r', 'p', 'v', 'm')
    and a.attnum > 0 and not a.attisdropped
    and t.typcategory not in ('B', 'D', 'A')  -- a boolean, a timestamp or an array is not a secret
    and not (n.nspname = 'storage' and c.relname in ('objects', 'buckets'))  -- the platform's own tables
    and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
), secret as (
  select * from col
  where parts && array['token', 'tokens', 'secret', 'secrets', 'hash', 'hashed', 'password', 'passwords', 'passwd',
                       'totp', 'key', 'keys', 'apikey', 'otp', 'recovery', 'salt']
    and not parts && array['public']
    -- a number named like a token is a count (tokens used, api_key_count), unless it is a one-time code
    and not (typcat = 'N' and not parts && array['otp', 'totp', 'pin'])
    -- a bare key or hash is a secret only in a table about secrets (api_keys.key, not settings.key)
    and (not parts <@ array['key', 'keys', 'hash', 'hashed']
         or string_to_array(lower(relname), '_') && array['key', 'keys', 'apikey', 'apikeys', 'api', 'secret', 'secrets',
              'token', 'tokens', 'credential', 'credentials', 'password', 'passwords', 'session', 'sessions', 'auth'])
    and not parts[array_length(parts, 1)] = any(array['id', 'ids', 'at', 'on', 'date', 'time', 'timestamp', 'expires',
        'expiry', 'count', 'type', 'kind', 'name', 'version', 'length', 'hint', 'enabled', 'set', 'updated', 'created',
        'sent', 'used', 'required', 'email', 'phone', 'method', 'status', 'provider', 'prefix', 'algorithm', 'alg',
        'url', 'label', 'description', 'last4'])
)
select s.nspname || '.' || s.relname || '.' || s.attname as object,
       'column' as object_type,
       'readable by ' || string_agg(r.rolname, ', ' order by r.rolname) ||
       case when s.relkind = 'v' then ' through a security_invoker view' else '' end ||
       ' (row level security limits the rows, not the column)' as detail
from secret s
join pg_roles r on r.rolname = any($2::text[]) and (has_column_privilege(r.oid, s.oid, s.attnum, 'SELECT') and pg_temp.dbtool_usage(r.oid, (select x.relnamespace from pg_catalog.pg_class x where x.oid = s.oid)))
where ((s.relkind in ('r', 'p') and s.relrowsecurity and not s.relispartition) or s.invoker)
group by s.nspname, s.relname, s.attname, s.relkind
