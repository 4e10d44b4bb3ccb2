package matrix

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtool-dev/dbtool/dbtest"
)

// judgeSchema has one table per built-in expectation; flawed = true writes
// the defect, false its fix.
func judgeSchema(flawed bool) string {
	pick := func(bad, good string) string {
		if flawed {
			return bad
		}
		return good
	}
	return `
create table public.profiles (
  id uuid primary key default auth.uid() references auth.users (id) on delete cascade,
  display_name text not null default '',
  role text not null default 'member' check (role in ('member', 'admin'))
);
alter table public.profiles enable row level security;
grant select, insert on public.profiles to authenticated;
` + pick(`grant update on public.profiles to authenticated;`, `grant update (display_name) on public.profiles to authenticated;`) + `
create policy profiles_select_self on public.profiles for select to authenticated using (id = (select auth.uid()));
create policy profiles_insert_self on public.profiles for insert to authenticated with check (id = (select auth.uid()));
create policy profiles_update_self on public.profiles for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));

-- Diary: per-user rows.
create table public.diary (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  body text not null
);
alter table public.diary enable row level security;
grant select, insert, update, delete on public.diary to authenticated;
create policy diary_select on public.diary for select to authenticated using (` + pick(`auth.uid() is not null`, `user_id = (select auth.uid())`) + `);
create policy diary_insert on public.diary for insert to authenticated with check (` + pick(`auth.uid() is not null`, `user_id = (select auth.uid())`) + `);
create policy diary_update on public.diary for update to authenticated using (user_id = (select auth.uid()));
create policy diary_delete on public.diary for delete to authenticated using (` + pick(`true`, `user_id = (select auth.uid())`) + `);

-- Admin-only reports: the policy reads profiles.role.
create table public.reports (id bigint generated always as identity primary key, body text not null);
alter table public.reports enable row level security;
grant select on public.reports to authenticated;
create policy reports_select_admin on public.reports for select to authenticated
  using (exists (select 1 from public.profiles p where p.id = (select auth.uid()) and p.role = 'admin'));

-- Guestbook: anon may sign it; whether anon may also erase it is the defect.
create table public.guestbook (id bigint generated always as identity primary key, message text not null);
alter table public.guestbook enable row level security;
grant select, insert on public.guestbook to anon;
` + pick(`grant delete on public.guestbook to anon;`, ``) + `
create policy guestbook_select on public.guestbook for select to anon using (true);
create policy guestbook_insert on public.guestbook for insert to anon with check (true);
` + pick(`create policy guestbook_delete on public.guestbook for delete to anon using (true);`, ``) + `

-- Companies: each with members and documents. The defect asks only whether
-- the caller is an active member of some company, never of the row's.
create table public.companies (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_by uuid not null default auth.uid() references auth.users (id) on delete cascade
);
create table public.company_members (
  company_id uuid not null references public.companies (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  active boolean not null default true,
  primary key (company_id, user_id)
);
create table public.documents (
  id bigint generated always as identity primary key,
  company_id uuid not null references public.companies (id) on delete cascade,
  title text not null
);
alter table public.companies enable row level security;
alter table public.company_members enable row level security;
alter table public.documents enable row level security;
grant select, update on public.companies, public.company_members, public.documents to authenticated;
create function public.my_company_ids() returns setof uuid language sql stable security definer set search_path = '' as
  $f$ select company_id from public.company_members where user_id = (select auth.uid()) and active $f$;
create function public.is_subscriber() returns boolean language sql stable security definer set search_path = '' as
  $f$ select exists (select 1 from public.company_members where user_id = (select auth.uid()) and active) $f$;
grant execute on function public.my_company_ids(), public.is_subscriber() to authenticated;
create policy companies_member on public.companies for select to authenticated using (id in (select public.my_company_ids()));
create policy company_members_member on public.company_members for select to authenticated using (company_id in (select public.my_company_ids()));
create policy documents_select on public.documents for select to authenticated using (` + pick(`(select public.is_subscriber())`, `company_id in (select public.my_company_ids())`) + `);
create policy documents_update on public.documents for update to authenticated using (` + pick(`(select public.is_subscriber())`, `company_id in (select public.my_company_ids())`) + `);
grant insert on public.documents to authenticated;
create policy documents_insert on public.documents for insert to authenticated with check (` + pick(`(select public.is_subscriber())`, `company_id in (select public.my_company_ids())`) + `);

-- Plans: a catalogue every signed-in user reads (the policy never asks who
-- reads). Notes: the defect compares the owner column with itself.
create table public.plans (id bigint generated always as identity primary key, name text not null, is_active boolean not null default true);
alter table public.plans enable row level security;
grant select on public.plans to authenticated;
create policy plans_read on public.plans for select to authenticated using (is_active = true);
create table public.notes (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  body text not null
);
alter table public.notes enable row level security;
grant select on public.notes to authenticated;
create policy notes_select on public.notes for select to authenticated using (` + pick(`user_id = user_id`, `user_id = (select auth.uid())`) + `);
grant all on all tables in schema public to service_role;
`
}

func judgeProject(t testing.TB, flawed bool) dbtest.Project {
	dir := t.TempDir()
	p := filepath.Join(dir, "migrations", "20260101000000_judge.up.sql")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(judgeSchema(flawed)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dbtest.Project{Dir: dir}
}

func judged(m *Matrix) map[string]Judgement {
	out := map[string]Judgement{}
	for _, j := range m.Judgements {
		out[j.Rule+" "+j.Display()+" "+j.Command] = j
	}
	return out
}

func TestJudgeFindsEachDefectAndNotItsFix(t *testing.T) {
	t.Parallel()
	db := dbtest.NewFor(t, judgeProject(t, true))
	m, err := Run(context.Background(), db.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := judged(m)
	want := map[string]string{ // rule + object -> level
		JudgeStrangerReads + " public.diary select":     "error",
		JudgeStrangerReads + " public.notes select":     "error", // user_id = user_id
		JudgeStrangerReads + " public.plans select":     "info",  // is_active = true: a catalogue
		JudgeStrangerWrites + " public.diary delete":    "error", // delete using (true)
		JudgeSpoofOwner + " public.diary insert":        "error",
		JudgeRaiseAuthority + " public.profiles update": "error",
		JudgeAnonWrites + " public.guestbook delete":    "error",
		JudgeAnonWrites + " public.guestbook insert":    "info", // a guestbook by design
		// The stranger (no company) sees no document; another company's
		// member sees and renames them all.
		JudgeTenantReads + " public.documents select":  "error",
		JudgeTenantWrites + " public.documents update": "error",
		JudgeTenantWrites + " public.documents insert": "error", // into the other company
	}
	for k, level := range want {
		j, ok := got[k]
		if !ok {
			t.Errorf("missing judgement %s; got %v", k, m.Judgements)
			continue
		}
		if j.Level != level {
			t.Errorf("%s: level %s, want %s (%s)", k, j.Level, level, j.Detail)
		}
	}
	if j := got[JudgeRaiseAuthority+" public.profiles update"]; !strings.Contains(j.Detail, "reports_select_admin") || !strings.Contains(j.Probe, "set \"role\" = 'admin'") {
		t.Errorf("raise: want the policy that makes role an authority and the probe, got %+v", j)
	}
	if j := got[JudgeSpoofOwner+" public.diary insert"]; !strings.Contains(j.Detail, "user_id") {
		t.Errorf("spoof: want the owner column named, got %+v", j)
	}

	// The fixed schema: no error and no warning.
	fixed := dbtest.NewFor(t, judgeProject(t, false))
	m, err = Run(context.Background(), fixed.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range m.Judgements {
		if j.Level != "info" {
			t.Errorf("fixed schema: unexpected %s", j.String())
		}
	}
	if JudgedErrors(m) != 0 {
		t.Fatalf("fixed schema: %d errors", JudgedErrors(m))
	}
}

// Every persona's sign-up makes a personal account (basejump's pattern).
// The owner's seeded invitation must hang under the owner's account, not
// under the first account found (the stranger's): else the stranger, owner
// of that account, deletes "the owner's" invitation and the judge reports a
// defect the schema does not have.
func TestSeedUnderTheOwnersOwnParent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "migrations", "20260101000000_accounts.up.sql")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(`
create table public.accounts (id uuid primary key default gen_random_uuid(), primary_owner uuid not null references auth.users (id) on delete cascade);
create table public.invitations (id bigint generated always as identity primary key, account_id uuid not null references public.accounts (id) on delete cascade, email text not null);
alter table public.accounts enable row level security;
alter table public.invitations enable row level security;
grant select on public.accounts to authenticated;
grant select, delete on public.invitations to authenticated;
create policy accounts_own on public.accounts for select to authenticated using (primary_owner = (select auth.uid()));
create function public.my_accounts() returns setof uuid language sql stable security definer set search_path = '' as
  $f$ select id from public.accounts where primary_owner = (select auth.uid()) $f$;
grant execute on function public.my_accounts() to authenticated;
create policy invitations_owner on public.invitations for all to authenticated using (account_id in (select public.my_accounts()));
create function public.personal_account() returns trigger language plpgsql security definer set search_path = '' as
  $f$ begin insert into public.accounts (primary_owner) values (new.id); return new; end $f$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.personal_account();
grant all on all tables in schema public to service_role;
`), 0o644); err != nil {
		t.Fatal(err)
	}
	db := dbtest.NewFor(t, dbtest.Project{Dir: dir})
	m, err := Run(context.Background(), db.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range m.Judgements {
		if j.Level == "error" {
			t.Errorf("false judgement: %s", j)
		}
	}
}
