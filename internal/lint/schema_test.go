package lint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/matrix"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// cleanSchema is a well-built multi-tenant schema: RLS on every table,
// scoped grants (column-level for updates), wrapped auth.uid(), membership
// looked up through a SECURITY DEFINER helper in a private schema, definer
// RPCs with a fixed search_path that check the caller, a security_invoker
// view, indexes for policies and foreign keys, a partitioned table with a
// default partition, trigger functions nobody may call.
const cleanSchema = `
create schema private;
grant usage on schema private to authenticated;

create table public.orgs (
  id bigint generated always as identity primary key,
  name text not null check (length(name) between 1 and 100),
  created_at timestamptz not null default now()
);
alter table public.orgs enable row level security;
grant select on public.orgs to authenticated;

create table public.org_members (
  org_id bigint not null references public.orgs (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('member', 'admin')),
  primary key (org_id, user_id)
);
create index org_members_user_id_idx on public.org_members (user_id);
alter table public.org_members enable row level security;
grant select on public.org_members to authenticated;

create function private.my_org_ids() returns setof bigint
language sql stable security definer set search_path = '' as $$
  select m.org_id from public.org_members m where m.user_id = (select auth.uid())
$$;
revoke execute on function private.my_org_ids() from public;
grant execute on function private.my_org_ids() to authenticated;

create function private.is_org_admin(org bigint) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m
                 where m.org_id = org and m.user_id = (select auth.uid()) and m.role = 'admin')
$$;
revoke execute on function private.is_org_admin(bigint) from public;
grant execute on function private.is_org_admin(bigint) to authenticated;

create policy orgs_select_member on public.orgs for select to authenticated
  using (id = any(array(select private.my_org_ids())));
create policy org_members_select_member on public.org_members for select to authenticated
  using (org_id = any(array(select private.my_org_ids())));

create table public.notes (
  id bigint generated always as identity primary key,
  org_id bigint not null references public.orgs (id) on delete cascade,
  owner uuid not null default auth.uid() references auth.users (id) on delete cascade,
  body text not null check (length(body) between 1 and 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index notes_org_id_idx on public.notes (org_id);
create index notes_owner_idx on public.notes (owner);
alter table public.notes enable row level security;
grant select, insert, delete on public.notes to authenticated;
grant update (body) on public.notes to authenticated;
create policy notes_select_member on public.notes for select to authenticated
  using (org_id = any(array(select private.my_org_ids())));
create policy notes_insert_own on public.notes for insert to authenticated
  with check (owner = (select auth.uid()) and org_id = any(array(select private.my_org_ids())));
create policy notes_update_own on public.notes for update to authenticated
  using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
create policy notes_delete_own on public.notes for delete to authenticated
  using (owner = (select auth.uid()) or (select private.is_org_admin(org_id)));

create function private.notes_touch() returns trigger language plpgsql set search_path = '' as $$
begin
  new.updated_at := now();
  return new;
end $$;
revoke execute on function private.notes_touch() from public;
create trigger notes_touch before update on public.notes for each row execute function private.notes_touch();

create view public.my_notes with (security_invoker = on) as
  select n.id, n.body, n.created_at from public.notes n where n.owner = (select auth.uid());
grant select on public.my_notes to authenticated;

create function public.note_create(org_id bigint, body text) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  new_id bigint;
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', message = 'sign in first';
  end if;
  if not (note_create.org_id = any(array(select private.my_org_ids()))) then
    raise exception using errcode = '42501', message = 'not a member of the organisation';
  end if;
  insert into public.notes (org_id, owner, body) values (note_create.org_id, auth.uid(), note_create.body)
  returning id into new_id;
  return new_id;
end $$;
revoke execute on function public.note_create(bigint, text) from public;
grant execute on function public.note_create(bigint, text) to authenticated;

create table public.audit_log (
  id bigint generated always as identity,
  at timestamptz not null default now(),
  actor uuid,
  action text not null,
  primary key (id, at)
) partition by range (at);
create table public.audit_log_2020 partition of public.audit_log for values from ('2020-01-01') to ('2021-01-01');
create table public.audit_log_default partition of public.audit_log default;
alter table public.audit_log enable row level security;

create function private.audit_actor() returns trigger language plpgsql set search_path = '' as $$
begin
  new.actor := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub';
  return new;
end $$;
revoke execute on function private.audit_actor() from public;
create trigger audit_actor before insert on public.audit_log for each row execute function private.audit_actor();

create table public.plans (
  id int primary key,
  name text not null,
  price_cents int not null check (price_cents >= 0)
);
comment on table public.plans is 'Public price list.';
alter table public.plans enable row level security;
grant select on public.plans to anon, authenticated;
create policy plans_select_all on public.plans for select to anon, authenticated using (true);
`

// A clean, well-built schema yields no error and no warning: every
// error-level finding must be a real defect.
func TestCleanSchemaHasNoErrorOrWarning(t *testing.T) {
	t.Parallel()
	conn, _ := newDB(t)
	execSQL(t, conn, cleanSchema)
	res := lintRun(t, conn, Options{})
	var bad []Finding
	for _, f := range res.Findings {
		if f.Level == Error || f.Level == Warn {
			bad = append(bad, f)
		} else {
			t.Logf("info: %s %s: %s", f.Rule, f.Object, f.Detail)
		}
	}
	if len(bad) > 0 {
		t.Errorf("clean schema reported:%s", dump(bad))
	}
	if Exceeds(res.Findings, Warn) {
		t.Error("Exceeds(warn) on the clean schema")
	}
	// The expected infos are there: the definer RPC is listed for review,
	// the public price list is readable by everyone.
	for _, want := range [][2]string{
		{"security_definer_checks_caller", "public.note_create(bigint, text)"},
		{"always_true_select_policy", "public.plans.plans_select_all"},
	} {
		if len(find(res.Findings, want[0], want[1])) == 0 {
			t.Errorf("expected info %s on %s:%s", want[0], want[1], dump(res.Findings))
		}
	}
}

// flawedProject is a project with the classic defects, migrated through
// dbtool's own runner.
var flawedProject = map[string]string{
	"migrations/20260101000000_flawed.up.sql": `
-- A blanket grant: every table in public readable by anon.
create table public.profiles (
  id uuid primary key references auth.users (id),
  display_name text,
  role text not null default 'member'
);
alter table public.profiles enable row level security;
grant select, update on public.profiles to authenticated;

create table public.admins (user_id uuid primary key references auth.users (id));
alter table public.admins enable row level security;
grant select on public.admins to authenticated;

create table public.accounts (
  id bigint generated always as identity primary key,
  owner uuid not null references auth.users (id),
  balance int not null default 0,
  api_key text
);
alter table public.accounts enable row level security;
grant select on public.accounts to authenticated;

-- Partitioned audit table: no RLS, no partition for today.
create table public.audit (
  at timestamptz not null,
  actor uuid,
  action text not null
) partition by range (at);
create table public.audit_2020 partition of public.audit for values from ('2020-01-01') to ('2021-01-01');

create materialized view public.balances as select owner, sum(balance) as total from public.accounts group by owner;

create view public.user_directory as select id, email from auth.users;

grant select on all tables in schema public to anon;
`,
	"policies/profiles.sql": `
drop policy if exists profiles_select_own on public.profiles;
create policy profiles_select_own on public.profiles for select to authenticated using (id = (select auth.uid()));
drop policy if exists profiles_update_own on public.profiles;
create policy profiles_update_own on public.profiles for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));
`,
	"policies/admins.sql": `
drop policy if exists admins_select_admin on public.admins;
create policy admins_select_admin on public.admins for select to authenticated
  using (exists (select 1 from public.admins a where a.user_id = (select auth.uid())));
`,
	"policies/accounts.sql": `
drop policy if exists accounts_select_own on public.accounts;
create policy accounts_select_own on public.accounts for select to authenticated using (owner = (select auth.uid()));
`,
	"procedures/account_credit.sql": `
create or replace function public.account_credit(account_id bigint, amount int) returns void
language sql security definer set search_path = '' as $$
  update public.accounts set balance = balance + amount where id = account_id
$$;
grant execute on function public.account_credit(bigint, int) to anon, authenticated;
`,
}

func writeProject(tb testing.TB, files map[string]string) dbtest.Project {
	dir := tb.TempDir()
	for p, c := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dbtest.Project{Dir: dir}
}

// The flawed project's defects are all found, at the right level, and the
// live matrix confirms the recursive policy.
func TestFlawedProject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.NewFor(t, writeProject(t, flawedProject))
	m, err := matrix.Run(ctx, db.URL, matrix.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	res := lintRun(t, conn, Options{Matrix: m})
	want := []struct{ rule, object, detail string }{
		{"policy_recursion", "public.admins.admins_select_admin", "confirmed by the live matrix"},
		{"user_updatable_authority_column", "public.profiles.role", ""},
		{"security_definer_unchecked_write", "public.account_credit(bigint, integer)", "anon, authenticated"},
		{"rls_disabled_in_public", "public.audit", "anon holds SELECT"},
		{"rls_disabled_in_public", "public.audit_2020", "a partition of public.audit"},
		{"partition_missing_for_today", "public.audit", "an insert for today fails"},
		{"materialized_view_in_api", "public.balances", "anon"},
		{"auth_users_exposed", "public.user_directory", "anon"},
		{"secret_column_readable", "public.accounts.api_key", "anon, authenticated"},
		{"security_definer_view_no_rls", "public.user_directory", ""},
		{"grant_without_policy", "public.accounts", "anon holds SELECT"},
	}
	for _, w := range want {
		fs := find(res.Findings, w.rule, w.object)
		if len(fs) == 0 {
			t.Errorf("missing %s on %s", w.rule, w.object)
			continue
		}
		if !strings.Contains(fs[0].Detail, w.detail) {
			t.Errorf("%s on %s: detail %q lacks %q", w.rule, w.object, fs[0].Detail, w.detail)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("findings:%s", dump(res.Findings))
	}
	if !Exceeds(res.Findings, Error) {
		t.Error("Exceeds(error) is false on the flawed project")
	}
}

// A 42P17 the static check cannot see (the cycle goes through a view
// without security_invoker owned by a role the table's policies apply to)
// is reported from the live matrix; a statically found one is confirmed.
func TestRecursionFromMatrix(t *testing.T) {
	fs := []Finding{{Rule: ruleRecursion, Object: "public.admins.admins_select_admin", ObjectType: "policy", Detail: "reads its own table"}}
	n := int64(0)
	m := &matrix.Matrix{Cells: []matrix.Cell{
		{Schema: "public", Object: "admins", Kind: "table", Role: "stranger", Command: "select", Outcome: matrix.Error, SQLState: "42P17"},
		{Schema: "public", Object: "teams", Kind: "table", Role: "owner", Command: "update", Outcome: matrix.Error, SQLState: "42P17"},
		{Schema: "public", Object: "notes", Kind: "table", Role: "owner", Command: "select", Outcome: matrix.Rows, Rows: &n},
		{Schema: "public", Object: "f(integer)", Kind: "function", Role: "anon", Command: "execute", Outcome: matrix.Error, SQLState: "42P17"},
	}}
	out := confirmRecursion(fs, m)
	if len(out) != 3 {
		t.Fatalf("got %d findings:%s", len(out), dump(out))
	}
	if !strings.Contains(out[0].Detail, "confirmed by the live matrix (42P17 for stranger select)") {
		t.Errorf("not confirmed: %s", out[0].Detail)
	}
	if out[1].Object != "public.teams" || out[1].ObjectType != "table" || out[1].Level != Error ||
		!strings.Contains(out[1].Detail, "the static check missed it") {
		t.Errorf("missed recursion: %+v", out[1])
	}
	if out[2].Object != "public.f(integer)" || out[2].ObjectType != "function" {
		t.Errorf("function cell: %+v", out[2])
	}
}

// A cycle through a view without security_invoker whose owner the table's
// policies apply to: the static rule stops at the view (it usually breaks
// the cycle), the live matrix sees the 42P17 and lint reports it.
func TestRecursionMissedStaticallyFoundByMatrix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := pgtest.Server(t)
	owner := pgtest.RandomName("lint_view_owner_")
	if err := pgtest.AdminExec(ctx, srv.URL, "create role "+owner+" nologin"); err != nil {
		t.Fatal(err)
	}
	// Registered before the database, so it runs after the database is dropped.
	t.Cleanup(func() { _ = pgtest.AdminExec(context.Background(), srv.URL, "drop role "+owner) })
	conn, url := newDB(t)
	execSQL(t, conn, `
		create table public.docs (id int primary key, owner uuid not null default auth.uid());
		alter table public.docs enable row level security;
		grant select on public.docs to authenticated, `+owner+`;
		create schema private;
		grant usage on schema private to authenticated, `+owner+`;
		create view private.docs_owners as select owner from public.docs;
		alter view private.docs_owners owner to `+owner+`;
		grant select on private.docs_owners to authenticated;
		create policy docs_select on public.docs for select using (owner in (select d.owner from private.docs_owners d));`)
	static := lintRun(t, conn, Options{Rules: []string{ruleRecursion}})
	if len(static.Findings) != 0 {
		t.Fatalf("the static rule was expected to miss this cycle:%s", dump(static.Findings))
	}
	// The view lives outside the exposed schema: the matrix counts the rows
	// of every exposed relation as the owner, which this view cannot serve.
	m, err := matrix.Run(ctx, url, matrix.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := lintRun(t, conn, Options{Rules: []string{ruleRecursion}, Matrix: m})
	fs := find(res.Findings, ruleRecursion, "public.docs")
	if len(fs) != 1 || fs[0].Level != Error || !strings.Contains(fs[0].Detail, "the static check missed it") {
		t.Errorf("matrix recursion not reported:%s", dump(res.Findings))
	}
}
