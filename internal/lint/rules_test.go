package lint

import (
	"strings"
	"testing"
)

// ruleCase is one rule's test: bad violates the rule (a finding on object,
// whose detail contains detail), fix is applied on top of bad and removes
// every finding of the rule. absent lists objects bad must not report
// (near misses the rule must leave alone).
type ruleCase struct {
	name   string // rule name, optionally "/variant"
	bad    string
	fix    string
	object string
	detail string
	absent []string
	// needs names an extension the case needs; skipped when the server
	// does not have it.
	needs string
}

func (c ruleCase) rule() string { r, _, _ := strings.Cut(c.name, "/"); return r }

// authorsView: a view over a table anon reads whole anyway (SELECT
// granted, a policy USING (true)).
const authorsView = `
create table public.authors (id int primary key, name text);
alter table public.authors enable row level security;
create policy authors_read on public.authors for select using (true);
grant select on public.authors to anon;
create view public.authors_view as select id, name from public.authors;
grant select on public.authors_view to anon;`

const notesTable = `
create table public.notes (
  id bigint generated always as identity primary key,
  owner uuid not null default auth.uid(),
  body text not null
);
create index notes_owner_idx on public.notes (owner);
alter table public.notes enable row level security;
`

var ruleCases = []ruleCase{
	{
		name:   "rls_disabled_in_public",
		bad:    `create table public.open_door (id int primary key, note text); grant select, insert on public.open_door to anon;`,
		fix:    `alter table public.open_door enable row level security;`,
		object: "public.open_door", detail: "anon holds SELECT, INSERT",
	},
	{
		// A blanket grant reaches partitions, which have their own (off)
		// RLS and can be queried directly.
		name: "rls_disabled_in_public/partition",
		bad: `create table public.audit (id bigint not null, at timestamptz not null, action text) partition by range (at);
			alter table public.audit enable row level security;
			create table public.audit_default partition of public.audit default;
			grant select on all tables in schema public to anon;`,
		fix:    `alter table public.audit_default enable row level security;`,
		object: "public.audit_default", detail: "a partition of public.audit",
		absent: []string{"public.audit"},
	},
	{
		name:   "rls_disabled_no_api_grants",
		bad:    `create table public.jobs (id int primary key, payload jsonb);`,
		fix:    `alter table public.jobs enable row level security;`,
		object: "public.jobs",
	},
	{
		name: "policy_exists_rls_disabled",
		bad: `create table public.drafts (id int primary key, owner uuid);
			create policy drafts_select_own on public.drafts for select to authenticated using (owner = (select auth.uid()));`,
		fix:    `alter table public.drafts enable row level security;`,
		object: "public.drafts", detail: "drafts_select_own",
	},
	{
		name:   "truncate_granted_to_api_role",
		bad:    notesTable + `grant select, truncate on public.notes to authenticated;`,
		fix:    `revoke truncate on public.notes from authenticated;`,
		object: "public", detail: "authenticated hold TRUNCATE on 1 table (notes)",
	},
	{
		name:   "references_trigger_granted_to_api_role",
		bad:    notesTable + `grant references (owner), trigger on public.notes to anon;`,
		fix:    `revoke references (owner), trigger on public.notes from anon;`,
		object: "public", detail: "anon hold REFERENCES (some columns), TRIGGER on 1 table (notes)",
	},
	{
		name: "grant_without_policy",
		bad: notesTable + `grant select, delete on public.notes to authenticated;
			create policy notes_select_own on public.notes for select to authenticated using (owner = (select auth.uid()));`,
		fix:    `revoke delete on public.notes from authenticated;`,
		object: "public.notes", detail: "authenticated holds DELETE but no permissive policy allows delete",
	},
	{
		// A policy without the expression the command uses grants nothing.
		name: "grant_without_policy/insert_without_check",
		bad: notesTable + `grant insert on public.notes to authenticated;
			create policy notes_insert on public.notes for insert to authenticated;`,
		fix:    `alter policy notes_insert on public.notes with check (owner = (select auth.uid()));`,
		object: "public.notes", detail: "authenticated holds INSERT",
	},
	{
		name:   "default_privileges_grant_to_api_role",
		bad:    `alter default privileges in schema public grant select, insert on tables to anon;`,
		fix:    `alter default privileges in schema public revoke select, insert on tables from anon;`,
		object: "public", detail: "grant INSERT, SELECT on new tables to anon",
	},
	{
		// Only PUBLIC was revoked: anon and authenticated keep EXECUTE from
		// the default privileges. Revoking anon too shows the defaults were
		// handled (authenticated is then deliberate).
		name: "public_revoke_ineffective",
		bad: `alter default privileges in schema public grant execute on functions to anon, authenticated;
			create function public.sessions_reset() returns int language sql as 'select 1';
			revoke execute on function public.sessions_reset() from public;`,
		fix:    `revoke execute on function public.sessions_reset() from anon;`,
		object: "public.sessions_reset()", detail: "anon, authenticated still hold it",
	},
	{
		name: "security_definer_no_search_path_api",
		bad: `create function public.org_count() returns bigint language sql security definer as 'select 1::bigint';
			grant execute on function public.org_count() to authenticated;`,
		fix:    `alter function public.org_count() set search_path = '';`,
		object: "public.org_count()", detail: "executable by authenticated",
	},
	{
		name: "security_definer_no_search_path",
		bad: `create schema private;
			create function private.is_admin(uid uuid) returns boolean language sql stable security definer as 'select true';`,
		fix:    `alter function private.is_admin(uuid) set search_path = '';`,
		object: "private.is_admin(uuid)",
	},
	{
		name: "security_definer_executable_by_api",
		bad: `create function public.order_stats() returns bigint language sql security definer set search_path = '' as 'select 1::bigint';
			grant execute on function public.order_stats() to public;`,
		fix:    `revoke execute on function public.order_stats() from public;`,
		object: "public.order_stats()", detail: "(through PUBLIC)",
	},
	{
		// Signed-in callers only, but nothing in the body looks at them;
		// checking the caller turns it into security_definer_checks_caller.
		name: "security_definer_executable_by_api/unchecked",
		bad: `create function public.order_stats() returns bigint language sql security definer set search_path = '' as 'select 1::bigint';
			grant execute on function public.order_stats() to authenticated;`,
		fix: `create or replace function public.order_stats() returns bigint language sql security definer set search_path = ''
			as 'select count(*) from auth.users where id = auth.uid()';`,
		object: "public.order_stats()", detail: "the body never checks the caller",
	},
	{
		name: "security_definer_checks_caller",
		bad: `create function public.note_count() returns bigint language plpgsql security definer set search_path = '' as $$
			begin
			  if auth.uid() is null then raise exception using errcode = '42501', message = 'sign in first'; end if;
			  return 1;
			end $$;
			grant execute on function public.note_count() to authenticated;`,
		fix:    `revoke execute on function public.note_count() from authenticated;`,
		object: "public.note_count()", detail: "the body checks the caller",
	},
	{
		name: "security_definer_unchecked_write",
		bad: `create table public.accounts (id int primary key, owner uuid, balance int not null default 0);
			alter table public.accounts enable row level security;
			create function public.account_credit(account_id int, amount int) returns void
			language plpgsql security definer set search_path = '' as $$
			begin
			  -- credit anyone's account
			  update public.accounts a set balance = balance + amount where a.id = account_id;
			end $$;
			grant execute on function public.account_credit(int, int) to anon, authenticated;`,
		fix: `create or replace function public.account_credit(account_id int, amount int) returns void
			language plpgsql security definer set search_path = '' as $$
			begin
			  if auth.uid() is null then raise exception using errcode = '42501', message = 'sign in first'; end if;
			  update public.accounts a set balance = balance + amount where a.id = account_id and a.owner = auth.uid();
			end $$;`,
		object: "public.account_credit(integer, integer)", detail: "writes tables (update)",
	},
	{
		name: "trigger_function_executable",
		bad: `create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
			grant execute on function public.touch() to authenticated;`,
		fix:    `revoke execute on function public.touch() from authenticated;`,
		object: "public.touch()", detail: "executable by authenticated",
	},
	{
		name: "security_definer_view",
		bad: notesTable + `create view public.notes_view as select id, body from public.notes;
			create view public.notes_view2 as select * from public.notes_view;
			grant select on public.notes_view2 to anon;` + authorsView,
		fix:    `alter view public.notes_view2 set (security_invoker = on);`,
		object: "public.notes_view2", detail: "row level security of public.notes is not applied",
		absent: []string{"public.notes_view", "public.authors_view"}, // not readable by API roles; public by design
	},
	{
		// A view over a table anon reads whole anyway (SELECT granted, a
		// policy USING (true)) hides nothing: not an error, the warning.
		name:   "security_definer_view_no_rls/public_by_design",
		bad:    authorsView,
		fix:    `alter view public.authors_view set (security_invoker = on);`,
		object: "public.authors_view", detail: "readable by anon",
	},
	{
		name: "security_definer_view_no_rls",
		bad: `create schema private;
			create table private.prices (id int primary key, amount int);
			create view public.price_list as select id, amount from private.prices;
			grant select on public.price_list to anon;`,
		fix:    `alter view public.price_list set (security_invoker = true);`,
		object: "public.price_list", detail: "readable by anon",
	},
	{
		name: "materialized_view_in_api",
		bad: notesTable + `create materialized view public.note_counts as select owner, count(*) from public.notes group by owner;
			grant select on public.note_counts to authenticated;`,
		fix:    `revoke select on public.note_counts from authenticated;`,
		object: "public.note_counts", detail: "readable by authenticated",
	},
	{
		name: "auth_users_exposed",
		bad: `create view public.users_view as select id, email from auth.users;
			grant select on public.users_view to anon, authenticated;`,
		fix:    `revoke select on public.users_view from anon, authenticated;`,
		object: "public.users_view", detail: "reads auth.users and is readable by anon, authenticated",
	},
	{
		name: "auth_users_exposed/function",
		bad: `create function public.user_emails() returns setof text language sql stable security definer set search_path = ''
			as 'select email from auth.users';
			grant execute on function public.user_emails() to authenticated;`,
		fix: `create or replace function public.user_emails() returns setof text language sql stable security definer set search_path = ''
			as 'select email from auth.users where id = auth.uid()';`,
		object: "public.user_emails()", detail: "reads auth.users as",
	},
	{
		// The caller is checked in a helper the function calls (followed
		// transitively): not reported; the one without any check is.
		name: "auth_users_exposed/helper",
		bad: `create schema private;
			create function private.role_of(account uuid) returns text language sql stable security definer set search_path = ''
			  as $$ select case when auth.uid() is not null then 'owner' end $$;
			create function private.require_owner(account uuid) returns void language plpgsql security definer set search_path = ''
			  as $$ begin if private.role_of(account) is distinct from 'owner' then raise exception 'not an owner'; end if; end $$;
			create function public.members(account uuid) returns setof text language plpgsql stable security definer set search_path = ''
			  as $$ begin perform private.require_owner(account); return query select email from auth.users; end $$;
			create function public.everyone() returns setof text language sql stable security definer set search_path = ''
			  as 'select email from auth.users';
			grant execute on function public.members(uuid), public.everyone() to authenticated;`,
		fix:    `revoke execute on function public.everyone() from authenticated;`,
		object: "public.everyone()", detail: "without checking the caller",
		absent: []string{"public.members(uuid)"},
	},
	{
		name: "policy_recursion",
		bad: `create table public.admins (user_id uuid primary key);
			alter table public.admins enable row level security;
			grant select on public.admins to authenticated;
			create policy admins_select_admin on public.admins for select to authenticated
			  using (exists (select 1 from public.admins a where a.user_id = (select auth.uid())));`,
		fix: `create schema private;
			grant usage on schema private to authenticated;
			create function private.is_admin() returns boolean language sql stable security definer set search_path = ''
			  as 'select exists (select 1 from public.admins a where a.user_id = (select auth.uid()))';
			grant execute on function private.is_admin() to authenticated;
			alter policy admins_select_admin on public.admins using ((select private.is_admin()));`,
		object: "public.admins.admins_select_admin", detail: "reads its own table public.admins",
	},
	{
		name: "policy_recursion/mutual",
		bad: `create table public.orgs (id int primary key);
			create table public.members (org_id int, user_id uuid);
			alter table public.orgs enable row level security;
			alter table public.members enable row level security;
			grant select on public.orgs, public.members to authenticated;
			create policy orgs_select_member on public.orgs for select to authenticated
			  using (id in (select m.org_id from public.members m where m.user_id = (select auth.uid())));
			create policy members_select_member on public.members for select to authenticated
			  using (org_id in (select o.id from public.orgs o));`,
		fix: `create function public.my_org_ids() returns setof int language sql stable security definer set search_path = ''
			  as 'select m.org_id from public.members m where m.user_id = (select auth.uid())';
			revoke execute on function public.my_org_ids() from public;
			grant execute on function public.my_org_ids() to authenticated;
			alter policy members_select_member on public.members using (org_id = any(array(select public.my_org_ids())));`,
		object: "public.orgs.orgs_select_member", detail: "reads public.members, whose policies lead back to public.orgs",
	},
	{
		// INSERT reading its own table recurses because the SELECT policy
		// has a sub-query (the wrapped auth.uid()); without one it would not.
		name: "policy_recursion/insert",
		bad: notesTable + `grant select, insert on public.notes to authenticated;
			create policy notes_select_own on public.notes for select to authenticated using (owner = (select auth.uid()));
			create policy notes_insert_limited on public.notes for insert to authenticated
			  with check ((select count(*) from public.notes n where n.owner = (select auth.uid())) < 100);`,
		fix:    `alter policy notes_select_own on public.notes using (owner = auth.uid());`,
		object: "public.notes.notes_insert_limited", detail: "for insert to authenticated: reads its own table",
	},
	{
		name: "policy_recursion/invoker_function",
		bad: `create table public.teams (id int primary key);
			alter table public.teams enable row level security;
			grant select on public.teams to authenticated;
			create function public.team_ids() returns setof int language sql stable as 'select id from public.teams';
			create policy teams_select on public.teams for select to authenticated using (id in (select public.team_ids()));`,
		fix:    `alter function public.team_ids() security definer set search_path = '';`,
		object: "public.teams.teams_select", detail: "through function public.team_ids()",
	},
	{
		name: "user_updatable_authority_column",
		bad: `create table public.profiles (id uuid primary key, display_name text, role text not null default 'member', is_admin boolean not null default false);
			alter table public.profiles enable row level security;
			grant select, update on public.profiles to authenticated;
			create policy profiles_update_own on public.profiles for update to authenticated
			  using (id = (select auth.uid())) with check (id = (select auth.uid()));`,
		fix: `revoke update on public.profiles from authenticated;
			grant update (display_name) on public.profiles to authenticated;`,
		object: "public.profiles.role", detail: "policy profiles_update_own lets authenticated update the rows where id = auth.uid()",
		absent: []string{"public.profiles.display_name"},
	},
	{
		// A BEFORE UPDATE trigger that keeps the column guards it.
		name: "user_updatable_authority_column/trigger_guard",
		bad: `create table public.profiles (id uuid primary key, display_name text, credits int not null default 0);
			alter table public.profiles enable row level security;
			grant select, update on public.profiles to authenticated;
			create policy profiles_update_own on public.profiles for update to authenticated
			  using ((select auth.uid()) = id) with check ((select auth.uid()) = id);`,
		fix: `create function public.profiles_keep_credits() returns trigger language plpgsql as $$
			begin new.credits := old.credits; return new; end $$;
			create trigger profiles_keep_credits before update on public.profiles for each row execute function public.profiles_keep_credits();`,
		object: "public.profiles.credits", detail: "rows where id = auth.uid()",
	},
	{
		name: "user_updatable_status_column",
		bad: `create table public.accounts (user_id uuid primary key, display_name text, status text not null default 'pending');
			alter table public.accounts enable row level security;
			grant select, update on public.accounts to authenticated;
			create policy accounts_update_own on public.accounts for update to authenticated
			  using (auth.uid() = user_id) with check (auth.uid() = user_id);`,
		fix: `revoke update on public.accounts from authenticated;
			grant update (display_name) on public.accounts to authenticated;`,
		object: "public.accounts.status", detail: "rows where user_id = auth.uid()",
	},
	{
		name: "privilege_table_self_insert",
		bad: `create table public.org_members (org_id int not null, user_id uuid not null, role text not null default 'member');
			alter table public.org_members enable row level security;
			grant select, insert on public.org_members to authenticated;
			create policy org_members_insert_self on public.org_members for insert to authenticated
			  with check (user_id = (select auth.uid()));`,
		fix: `create function public.is_org_admin(org int) returns boolean language sql stable security definer set search_path = ''
			  as 'select exists (select 1 from public.org_members m where m.org_id = org and m.user_id = auth.uid() and m.role = ''admin'')';
			alter policy org_members_insert_self on public.org_members with check (public.is_org_admin(org_id));`,
		object: "public.org_members.org_members_insert_self", detail: "authenticated may insert into public.org_members",
	},
	{
		name: "update_policy_without_with_check",
		bad: notesTable + `grant update on public.notes to authenticated;
			create policy notes_update_own on public.notes for update to authenticated using (owner = (select auth.uid()));
			create policy notes_update_never on public.notes for update to authenticated using (false);`,
		fix:    `alter policy notes_update_own on public.notes with check (owner = (select auth.uid()));`,
		object: "public.notes.notes_update_own", detail: "without WITH CHECK",
		// A USING that can never be true lets no row through: not reported.
		absent: []string{"public.notes.notes_update_never"},
	},
	{
		name: "with_check_unbound_owner",
		bad: notesTable + `grant update on public.notes to authenticated;
			create policy notes_update_own on public.notes for update to authenticated
			  using (owner = (select auth.uid())) with check (length(body) < 2000);`,
		fix:    `alter policy notes_update_own on public.notes with check (owner = (select auth.uid()) and length(body) < 2000);`,
		object: "public.notes.notes_update_own", detail: "USING binds owner to the caller",
	},
	{
		name: "with_check_unbound_owner/tenant",
		bad: notesTable + `alter table public.notes add column org_id int;
			grant update on public.notes to authenticated;
			create policy notes_update_member on public.notes for update to authenticated
			  using (org_id in (select 1)) with check (length(body) < 2000);`,
		fix:    `alter policy notes_update_member on public.notes with check (org_id in (select 1) and length(body) < 2000);`,
		object: "public.notes.notes_update_member", detail: "USING binds org_id",
	},
	{
		name: "always_true_write_policy",
		bad: notesTable + `grant delete on public.notes to authenticated;
			create policy notes_delete_any on public.notes for delete to authenticated using (true);`,
		fix:    `alter policy notes_delete_any on public.notes using (owner = (select auth.uid()));`,
		object: "public.notes.notes_delete_any", detail: "USING (true) matches every row",
	},
	{
		name: "always_true_insert_policy",
		bad: `create table public.feedback (id int generated always as identity primary key, message text not null);
			alter table public.feedback enable row level security;
			grant insert on public.feedback to anon;
			create policy feedback_insert_any on public.feedback for insert to anon with check (true);`,
		fix:    `alter policy feedback_insert_any on public.feedback with check (length(message) between 1 and 2000);`,
		object: "public.feedback.feedback_insert_any",
	},
	{
		name: "always_true_select_policy",
		bad: `create table public.plans (id int primary key, name text, published boolean not null default false);
			alter table public.plans enable row level security;
			grant select on public.plans to anon;
			create policy plans_select_all on public.plans for select to anon using (true);`,
		fix:    `alter policy plans_select_all on public.plans using (published);`,
		object: "public.plans.plans_select_all",
	},
	{
		name: "policy_uses_user_metadata",
		bad: notesTable + `create policy notes_select_admin on public.notes for select to authenticated
			  using ((auth.jwt() -> 'user_metadata' ->> 'role') = 'admin');`,
		fix:    `alter policy notes_select_admin on public.notes using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin');`,
		object: "public.notes.notes_select_admin", detail: "reads user metadata",
	},
	{
		name: "secret_column_readable",
		bad: `create table public.integrations (id int primary key, owner uuid, name text, api_key text, monkey text, keyword text,
			  token_expires_at timestamptz, key_id int, public_key text, password_hash text, is_secret boolean);
			alter table public.integrations enable row level security;
			grant select on public.integrations to authenticated;
			create policy integrations_select_own on public.integrations for select to authenticated using (owner = (select auth.uid()));
			create table public.settings (key text primary key, value int);
			alter table public.settings enable row level security;
			grant select on public.settings to authenticated;`,
		fix: `revoke select on public.integrations from authenticated;
			grant select (id, owner, name, monkey, keyword, token_expires_at, key_id, public_key, is_secret) on public.integrations to authenticated;`,
		object: "public.integrations.api_key", detail: "readable by authenticated",
		absent: []string{"public.integrations.monkey", "public.integrations.keyword", "public.integrations.token_expires_at",
			"public.integrations.key_id", "public.integrations.public_key", "public.integrations.is_secret", "public.settings.key"},
	},
	{
		name:   "secret_column_exposed",
		bad:    `create table public.api_tokens (id int primary key, token text not null); grant select on public.api_tokens to anon;`,
		fix:    `alter table public.api_tokens enable row level security;`,
		object: "public.api_tokens.token", detail: "without row level security",
	},
	{
		name:   "check_constraint_not_immutable",
		bad:    `create table public.events (id int primary key, starts_at timestamptz check (starts_at > now()), day date check (day >= current_date));`,
		fix:    `alter table public.events drop constraint events_starts_at_check, drop constraint events_day_check, add constraint events_day_check check (day >= date '2000-01-01');`,
		object: "public.events.events_starts_at_check", detail: "calls now() (stable)",
	},
	{
		name: "check_constraint_not_immutable/function",
		bad: `create function public.is_future(t timestamptz) returns boolean language sql stable as 'select t > now()';
			create table public.slots (id int primary key, at timestamptz check (public.is_future(at)));`,
		fix:    `alter function public.is_future(timestamptz) immutable;`,
		object: "public.slots.slots_at_check", detail: "is_future() (stable)",
	},
	{
		name: "partition_missing_for_today",
		bad: `create table public.audit_log (at timestamptz not null, action text) partition by range (at);
			create table public.audit_log_2020 partition of public.audit_log for values from ('2020-01-01') to ('2021-01-01');`,
		fix:    `create table public.audit_log_default partition of public.audit_log default;`,
		object: "public.audit_log", detail: "an insert for today fails",
	},
	{
		name: "partition_missing_for_today/covered_by_range",
		bad: `create table public.events_log (day date not null) partition by range (day);
			create table public.events_log_old partition of public.events_log for values from (minvalue) to ('2001-01-01');`,
		fix:    `create table public.events_log_now partition of public.events_log for values from ('2001-01-01') to (maxvalue);`,
		object: "public.events_log", detail: "range partitioned on day (date)",
	},
	{
		name:   "partition_missing_for_today/no_partition",
		bad:    `create table public.metrics (id int, kind text) partition by list (kind);`,
		fix:    `create table public.metrics_default partition of public.metrics default;`,
		object: "public.metrics", detail: "has no partition",
	},
	{
		name: "current_setting_without_missing_ok",
		bad: `create function public.set_actor() returns trigger language plpgsql as $$
			begin
			  perform current_setting('request.jwt.claims');
			  return new;
			end $$;`,
		fix: `create or replace function public.set_actor() returns trigger language plpgsql as $$
			begin
			  perform current_setting('request.jwt.claims', true);
			  return new;
			end $$;`,
		object: "public.set_actor()", detail: "current_setting('request.jwt.claims')",
	},
	{
		name:  "plpgsql_check_error",
		needs: "plpgsql_check",
		bad: notesTable + `create extension plpgsql_check;
			create function public.note_total() returns bigint language plpgsql as $$
			begin return (select count(*) from public.notes where ownr = auth.uid()); end $$;`,
		fix: `create or replace function public.note_total() returns bigint language plpgsql as $$
			begin return (select count(*) from public.notes where owner = auth.uid()); end $$;`,
		object: "public.note_total()", detail: `column "ownr" does not exist`,
	},
	{
		name: "auth_rls_initplan",
		bad: notesTable + `create table public.members (org_id int, user_id uuid);
			alter table public.notes add column org_id int;
			create policy notes_select_own on public.notes for select to authenticated using (owner = auth.uid());
			create policy notes_select_member on public.notes for select to authenticated
			  using (org_id in (select m.org_id from public.members m where m.user_id = auth.uid()));
			create policy notes_delete_own on public.notes for delete to authenticated using (owner = (select auth.uid()));`,
		fix:    `alter policy notes_select_own on public.notes using (owner = (select auth.uid()));`,
		object: "public.notes.notes_select_own", detail: "calls auth.uid() outside a sub-query",
		absent: []string{"public.notes.notes_select_member", "public.notes.notes_delete_own"},
	},
	{
		name: "policy_column_unindexed",
		bad: `create table public.docs (id int primary key, author uuid, published boolean);
			alter table public.docs enable row level security;
			create policy docs_select on public.docs for select to authenticated using (published or author = (select auth.uid()));`,
		fix:    `create index docs_author_idx on public.docs (author);`,
		object: "public.docs.author", detail: "public.docs.docs_select",
		absent: []string{"public.docs.published"},
	},
	{
		name: "unindexed_foreign_key",
		bad: notesTable + `create table public.tags (id int primary key, note_id bigint not null references public.notes (id));
			-- a composite key served by an index on its first column is fine
			create table public.pairs (a int, b int, primary key (a, b));
			create table public.links (id int primary key, a int, b int, foreign key (b, a) references public.pairs (b, a));
			create index links_a_idx on public.links (a);`,
		fix:    `create index tags_note_id_idx on public.tags (note_id);`,
		object: "public.tags.tags_note_id_fkey", detail: "foreign key (note_id) references public.notes",
		absent: []string{"public.links.links_b_a_fkey"},
	},
	{
		name: "multiple_permissive_policies",
		bad: notesTable + `alter table public.notes add column published boolean not null default false;
			create policy notes_select_own on public.notes for select to authenticated using (owner = (select auth.uid()));
			create policy notes_select_published on public.notes for select to anon, authenticated using (published);`,
		fix: `drop policy notes_select_own on public.notes;
			alter policy notes_select_published on public.notes using (published or owner = (select auth.uid()));`,
		object: "public.notes", detail: "for select to authenticated: permissive policies notes_select_own, notes_select_published",
	},
	{
		name: "duplicate_index",
		bad: notesTable + `create index notes_owner_idx1 on public.notes (owner);
			create unique index notes_id_key on public.notes (id);`,
		fix:    `drop index public.notes_owner_idx1; drop index public.notes_id_key;`,
		object: "public.notes_owner_idx1", detail: "duplicates public.notes_owner_idx",
		absent: []string{"public.notes_owner_idx", "public.notes_pkey"},
	},
	{
		// WITH CHECK (auth.uid() IS NOT NULL): anyone signed in creates a
		// row owned by anyone. A check bound through a helper is fine.
		name: "insert_check_unbound_owner",
		bad: `create table public.posts (id bigint generated always as identity primary key,
			  author_id uuid not null references auth.users (id), body text not null);
			alter table public.posts enable row level security;
			grant select, insert on public.posts to authenticated;
			create policy posts_insert_any on public.posts for insert to authenticated with check (auth.uid() is not null);
			create table public.memos (id bigint generated always as identity primary key,
			  owner uuid not null default auth.uid() references auth.users (id), body text);
			alter table public.memos enable row level security;
			grant insert on public.memos to authenticated;
			create function public.can_write(who uuid) returns boolean language sql stable set search_path = '' as 'select who = auth.uid()';
			create policy memos_insert on public.memos for insert to authenticated with check (public.can_write(owner));
			create table public.league_members (id bigint generated always as identity primary key,
			  user_id uuid not null references auth.users (id));
			alter table public.league_members enable row level security;
			grant insert on public.league_members to authenticated;
			create function public.is_commissioner() returns boolean language sql stable set search_path = '' as 'select false';
			create policy commissioners_add on public.league_members for insert to authenticated with check (public.is_commissioner());`,
		fix:    `alter policy posts_insert_any on public.posts with check (author_id = (select auth.uid()));`,
		object: "public.posts.posts_insert_any", detail: "never binds author_id to the caller",
		absent: []string{"public.memos.memos_insert", "public.league_members.commissioners_add"},
	},
	{
		name: "row_independent_policy",
		bad: `create table public.docs (id bigint generated always as identity primary key,
			  owner uuid not null references auth.users (id), body text);
			alter table public.docs enable row level security;
			grant select on public.docs to authenticated;
			create function public.is_subscriber() returns boolean language sql stable set search_path = '' as 'select auth.uid() is not null';
			create policy docs_select_subscribers on public.docs for select to authenticated using (public.is_subscriber());
			create table public.accounts (id bigint primary key);
			create table public.account_docs (id bigint primary key, account_id bigint not null references public.accounts (id));
			alter table public.account_docs enable row level security;
			grant select on public.account_docs to authenticated;
			create policy account_docs_member on public.account_docs for select to authenticated
			  using (exists (select 1 from public.accounts a where a.id = account_docs.account_id and auth.uid() is not null));`,
		fix:    `alter policy docs_select_subscribers on public.docs using (owner = (select auth.uid()) and public.is_subscriber());`,
		object: "public.docs.docs_select_subscribers", detail: "reads no column of the row",
		absent: []string{"public.account_docs.account_docs_member"},
	},
	{
		name: "dynamic_sql_from_arguments",
		bad: `create function public.find_user(p_email text) returns setof text language plpgsql security definer set search_path = '' as $$
			begin
			  return query execute 'select email::text from auth.users where email = ''' || p_email || '''';
			end $$;
			grant execute on function public.find_user(text) to anon;
			create function public.find_user_safe(p_email text) returns setof text language plpgsql security definer set search_path = '' as $$
			begin
			  return query execute format('select email::text from auth.users where email = %L', p_email);
			end $$;
			grant execute on function public.find_user_safe(text) to anon;`,
		fix: `create or replace function public.find_user(p_email text) returns setof text language plpgsql security definer set search_path = '' as $$
			begin
			  return query execute 'select email::text from auth.users where email = $1' using p_email;
			end $$;`,
		object: "public.find_user(text)", detail: "EXECUTE builds SQL text from p_email",
		absent: []string{"public.find_user_safe(text)"},
	},
	{
		name:   "schema_create_for_api_roles",
		bad:    `grant create on schema public to public;`,
		fix:    `revoke create on schema public from public;`,
		object: "public", detail: "PUBLIC",
	},
	{
		name:   "ignore_without_reason",
		bad:    `create table public.audit (id int); comment on table public.audit is 'Audit trail. @dbtool-ignore rls_disabled_no_api_grants';`,
		fix:    `comment on table public.audit is 'Audit trail. @dbtool-ignore rls_disabled_no_api_grants: never granted to API roles';`,
		object: "public.audit", detail: "has no reason",
	},
}

// Every rule of the catalogue has a violating fixture and its fix.
func TestEveryRuleHasACase(t *testing.T) {
	has := map[string]bool{}
	for _, c := range ruleCases {
		has[c.rule()] = true
		if !knownRule(c.rule()) {
			t.Errorf("case %s: no such rule", c.name)
		}
	}
	for _, r := range Rules() {
		if !has[r.Name] {
			t.Errorf("rule %s %s has no test case", r.ID, r.Name)
		}
	}
}

// Each rule finds its violation (with the right object, level and detail)
// and nothing once the fixture is fixed.
func TestRules(t *testing.T) {
	for _, c := range ruleCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn, _ := newDB(t)
			if c.needs != "" {
				var ok bool
				if err := conn.QueryRow(t.Context(), "select exists (select 1 from pg_available_extensions where name = $1)", c.needs).Scan(&ok); err != nil {
					t.Fatal(err)
				}
				if !ok {
					t.Skipf("extension %s is not available on this server", c.needs)
				}
			}
			execSQL(t, conn, c.bad)
			var rule Rule
			for _, r := range Rules() {
				if r.Name == c.rule() {
					rule = r
				}
			}
			res := lintRun(t, conn, Options{Rules: []string{rule.Name}})
			got := find(res.Findings, rule.Name, c.object)
			if len(got) == 0 {
				t.Fatalf("no %s finding on %s; got:%s", rule.Name, c.object, dump(res.Findings))
			}
			f := got[0]
			if f.Level != rule.Level || f.ID != rule.ID || f.Title != rule.Title || f.Remediation != rule.Remediation || f.Category != rule.Category {
				t.Errorf("finding does not carry the rule's header: %+v", f)
			}
			if !strings.Contains(f.Detail, c.detail) {
				t.Errorf("detail %q does not contain %q", f.Detail, c.detail)
			}
			if !validObjectType(f.ObjectType) {
				t.Errorf("object type %q", f.ObjectType)
			}
			for _, a := range c.absent {
				if fs := find(res.Findings, rule.Name, a); len(fs) > 0 {
					t.Errorf("near miss %s reported:%s", a, dump(fs))
				}
			}
			execSQL(t, conn, c.fix)
			res = lintRun(t, conn, Options{Rules: []string{rule.Name}})
			if fs := find(res.Findings, rule.Name, ""); len(fs) > 0 {
				t.Errorf("still reported after the fix:%s", dump(fs))
			}
		})
	}
}

func validObjectType(s string) bool {
	for _, t := range ObjectTypes {
		if t == s {
			return true
		}
	}
	return false
}
