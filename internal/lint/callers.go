package lint

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// callerChecksSQL fills pg_temp.dbtool_caller_checks with the routines that
// check their caller, directly or through a helper they call (followed
// transitively): a body that compares with auth.uid()/auth.jwt()/
// auth.role()/auth.email(), current_user/session_user, reads
// request.jwt.*, or calls a guard named like one (has_*, is_*admin*,
// can_*, authorize*, assert_*, require_*, check_*permission*...).
// Rules 0011, 0012, 0013 and 0018 read it. Textual on the bodies
// (PostgreSQL records no dependency between PL/pgSQL routines): a call is
// a routine's name followed by "(", matched on whole identifiers.
const callerChecksSQL = `
create temp table dbtool_caller_checks on commit drop as
with recursive fn as (
  select p.oid, lower(p.proname) as proname,
         regexp_replace(regexp_replace(case when p.prosqlbody is not null then pg_get_functiondef(p.oid) else p.prosrc end,
                        '--[^\n]*', '', 'g'), '/\*.*?\*/', '', 'g') as body
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  join pg_catalog.pg_language l on l.oid = p.prolang
  where l.lanname in ('sql', 'plpgsql')
    and n.nspname not in ('pg_catalog', 'information_schema')
    and not exists (select 1 from pg_catalog.pg_depend e where e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                    and e.objid = p.oid and e.deptype = 'e')
), calls as (
  select distinct f.oid as caller, g.oid as callee
  from fn f
  cross join lateral pg_catalog.regexp_matches(f.body, '([A-Za-z_][A-Za-z0-9_$]*)"?\s*\(', 'g') m
  join fn g on g.proname = pg_catalog.lower(m[1]) and g.oid <> f.oid
), checks(oid) as (
  select oid from fn
  where body ~* ('auth\.(uid|role|jwt|email)\s*\(|\m(current_user|session_user|current_role)\M|request\.jwt|'
                 '\m(has_\w+|is_\w*(admin|member|owner|staff)\w*|can_\w+|authorize\w*|assert_\w+|require_\w+|'
                 'check_\w*(permission|access|role|admin|member|owner)\w*)\s*\(')
  union
  select c.caller from calls c join checks k on k.oid = c.callee
)
select distinct oid from checks`

// reachSQL: dbtool_project_schema says whether a schema is the project's
// (an exposed one, or any but the system's and the platform's: auth,
// storage, extensions, ...), for the rules that look past the exposed
// schemas. And a role holds a privilege on an object only if it can reach
// it: USAGE on the object's schema. Rules wrap every has_*_privilege with
// pg_temp.dbtool_usage (role, the object's schema; inlined by the planner)
// or, where the query does not have the schema at hand, dbtool_reaches
// (relations) and dbtool_reaches_fn (routines).
const reachSQL = `
create function pg_temp.dbtool_project_schema(nsp name, exposed text[]) returns boolean language sql immutable as
  $f$ select nsp = any(exposed)
         or (nsp !~ '^pg_' and nsp not in ('information_schema', 'auth', 'storage', 'realtime', '_realtime',
             'graphql', 'graphql_public', 'extensions', 'vault', 'pgsodium', 'pgsodium_masks', 'supabase_functions',
             'supabase_migrations', 'net', 'cron', 'pgbouncer', 'pgtle', '_analytics', 'dbtool')) $f$;
create function pg_temp.dbtool_usage(role oid, nsp oid) returns boolean language sql stable as
  $f$ select pg_catalog.has_schema_privilege(role, nsp, 'USAGE') $f$;
create function pg_temp.dbtool_reaches(role oid, rel oid) returns boolean language sql stable as
  $f$ select coalesce((select pg_catalog.has_schema_privilege(role, c.relnamespace, 'USAGE')
                       from pg_catalog.pg_class c where c.oid = rel), false) $f$;
create function pg_temp.dbtool_reaches(role name, rel oid) returns boolean language sql stable as
  $f$ select pg_temp.dbtool_reaches((select oid from pg_catalog.pg_roles where rolname = role), rel) $f$;
create function pg_temp.dbtool_reaches_fn(role oid, fn oid) returns boolean language sql stable as
  $f$ select coalesce((select pg_catalog.has_schema_privilege(role, p.pronamespace, 'USAGE')
                       from pg_catalog.pg_proc p where p.oid = fn), false) $f$;
create function pg_temp.dbtool_reaches_fn(role name, fn oid) returns boolean language sql stable as
  $f$ select pg_temp.dbtool_reaches_fn((select oid from pg_catalog.pg_roles where rolname = role), fn) $f$;`

// prepareCallerChecks builds the table (and the reachability helpers)
// inside the lint transaction.
func prepareCallerChecks(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, reachSQL); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, callerChecksSQL)
	return err
}
