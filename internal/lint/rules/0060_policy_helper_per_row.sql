-- id: 0060
-- name: policy_helper_per_row
-- level: info
-- category: performance
-- title: Policy calls a non-inlinable function with a column of the row (runs once per row)
-- analyzer: per_row_helper
-- description: A policy calls a function PostgreSQL cannot inline (PL/pgSQL, SECURITY DEFINER, or with a
--   SET clause) and passes it a column of the row (is_member(org_id)): the call cannot be hoisted into an
--   initplan, so it runs for every row the query scans, a sub-query per row inside it. On a table of a
--   million rows a count(*) makes a million calls. Read on the policy's parse tree.
-- remediation: Compare the column with a set computed once: org_id = any(array(select private.my_org_ids()))
--   or org_id in (select private.my_org_ids()), with the helper returning the caller's ids.
select n.nspname || '.' || c.relname || '.' || p.polname as object,
       'policy' as object_type,
       'calls per row: ' as detail,
       coalesce(pg_get_expr(p.polqual, p.polrelid), 'true') || ' and ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), 'true') || chr(31) ||
       (select string_agg(fn.nspname || '.' || f.proname || ',' || f.proname, ',')
        from pg_depend d join pg_proc f on f.oid = d.refobjid join pg_namespace fn on fn.oid = f.pronamespace
        join pg_language l on l.oid = f.prolang
        where d.classid = 'pg_policy'::regclass and d.objid = p.oid and d.refclassid = 'pg_proc'::regclass
          and (l.lanname not in ('sql', 'internal', 'c') or f.prosecdef or f.proconfig is not null)) || chr(31) ||
       (select string_agg(a.attname, ',') from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as input
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[])
  and exists (select 1 from pg_depend d join pg_proc f on f.oid = d.refobjid join pg_language l on l.oid = f.prolang
              where d.classid = 'pg_policy'::regclass and d.objid = p.oid and d.refclassid = 'pg_proc'::regclass
                and (l.lanname not in ('sql', 'internal', 'c') or f.prosecdef or f.proconfig is not null)
                -- called with arguments (a helper without any cannot take a column of the row)
                and f.pronargs > 0
                and strpos(coalesce(pg_get_expr(p.polqual, p.polrelid), '') || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),
                           f.proname || '(') > 0)
