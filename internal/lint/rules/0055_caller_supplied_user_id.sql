-- id: 0055
-- name: caller_supplied_user_id
-- level: error
-- category: security
-- title: SECURITY DEFINER routine writes for whichever user the caller names
-- analyzer: caller_supplied_user
-- description: A SECURITY DEFINER routine an API role may execute takes a user id as an argument (user_id,
--   owner_id, member_id, customer_id, profile_id, author_id, ...) and writes rows with it, while its only
--   look at the caller is a null test (auth.uid() is not null) or a role name: it never compares
--   auth.uid() or auth.jwt() with anything and calls no permission helper (has_*, is_*, can_*, ...). Any
--   signed-in user passes another user's id and the routine writes as them, past row level security.
--   Read on the PL/pgSQL parse tree with each statement's SQL parsed in turn (no verdict when one does
--   not parse). Routines that never look at the caller at all are rule 0013.
-- remediation: Use auth.uid() instead of the argument, or check it: if user_id <> auth.uid() and not
--   private.is_admin() then raise exception ... end if.
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' as object,
       'function' as object_type,
       'SECURITY DEFINER, executable by ' || string_agg(r.rolname, ', ' order by r.rolname) ||
       '; only null-tests the caller and writes with the caller-supplied ' as detail,
       l.lanname || chr(31) || case when l.lanname = 'plpgsql' then pg_get_functiondef(p.oid) else p.prosrc end || chr(31) ||
       (select string_agg(a.name, ',') from unnest(p.proargnames, p.proargtypes::oid[]) with ordinality a(name, typ, i)
        where a.typ = 'uuid'::regtype
          and a.name ~* '^(p_|_|in_|v_)?(user|owner|member|customer|profile|account_owner|author|uid|created_by|sender|recipient|target_user)(_id|_uuid)?$') as input
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname in ('sql', 'plpgsql')
join pg_roles r on r.rolname = any($2::text[]) and (has_function_privilege(r.oid, p.oid, 'EXECUTE') and pg_temp.dbtool_usage(r.oid, p.pronamespace))
where p.prosecdef
  and p.prokind in ('f', 'p')
  and n.nspname = any($1::text[])
  and p.proargnames is not null
  and exists (select 1 from unnest(p.proargnames, p.proargtypes::oid[]) a(name, typ)
              where a.typ = 'uuid'::regtype
                and a.name ~* '^(p_|_|in_|v_)?(user|owner|member|customer|profile|account_owner|author|uid|created_by|sender|recipient|target_user)(_id|_uuid)?$')
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
group by n.nspname, p.proname, p.proargtypes, p.oid, l.lanname, p.proargnames, p.prosrc
