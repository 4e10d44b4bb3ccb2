-- id: 0030
-- name: secret_column_exposed
-- level: error
-- category: security
-- title: Secret-looking column readable without row level security
-- description: A column whose name says it holds a secret (token, secret, hash, password, totp, key,
--   api_key, otp, recovery, salt: whole underscore-separated parts; a bare key or hash column only in a
--   table about keys, tokens, secrets or credentials) is readable by an API role on a
--   table without row level security, through a view without security_invoker or through a
--   materialized view: every row's secret is readable.
-- remediation: Revoke SELECT on the column (grant select on the other columns only), enable row level
--   security, or move secrets to a schema the API does not expose.
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
       case s.relkind when 'm' then ' through a materialized view (no row level security)'
                      when 'v' then ' through a view without security_invoker (runs as its owner)'
                      else ' without row level security: every row''s value' end as detail
from secret s
join pg_roles r on r.rolname = any($2::text[]) and (has_column_privilege(r.oid, s.oid, s.attnum, 'SELECT') and pg_temp.dbtool_usage(r.oid, (select x.relnamespace from pg_catalog.pg_class x where x.oid = s.oid)))
where (s.relkind in ('r', 'p') and not s.relrowsecurity) or s.relkind = 'm' or (s.relkind = 'v' and not s.invoker)
group by s.nspname, s.relname, s.attname, s.relkind
