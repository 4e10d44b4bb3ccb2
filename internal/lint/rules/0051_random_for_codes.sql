-- id: 0051
-- name: random_for_codes
-- level: warn
-- category: security
-- title: random() makes codes, tokens or passwords
-- analyzer: random_codes
-- description: A routine uses random() for a value that must not be guessed: assigned to a variable or
--   written into a column named like a code, token, OTP, PIN, password, invitation, coupon or key, or
--   returned by a routine named so. random() is a fast generator seeded per session, not a source of
--   secrets: its outputs can be predicted from earlier ones, and random()*1000000 makes codes with much
--   less entropy than they appear to have. Read on the PL/pgSQL parse tree; warn, as guessing needs
--   further work (observed outputs or many tries).
-- remediation: Use gen_random_uuid(), or gen_random_bytes(n) from pgcrypto (encode(..., 'hex')), and for
--   numeric codes get_byte-based digits from gen_random_bytes, with a rate limit on checking them.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       '' as detail,
       l.lanname || chr(31) || p.proname || chr(31) ||
       case when l.lanname = 'plpgsql' then pg_get_functiondef(p.oid) else p.prosrc end as input
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname in ('sql', 'plpgsql')
where p.prosrc ~* '\mrandom\s*\('
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
