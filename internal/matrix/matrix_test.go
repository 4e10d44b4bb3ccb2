package matrix

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var fixture = map[string]string{
	"migrations/20260101000000_fixture.up.sql": `
create table public.notes (
  id bigint generated always as identity primary key,
  owner uuid not null default auth.uid() references auth.users (id) on delete cascade,
  status text not null check (status in ('draft', 'published')),
  body text not null check (length(body) between 1 and 200)
);
alter table public.notes enable row level security;
grant select, insert, update, delete on public.notes to authenticated;
grant select on public.notes to anon;
grant all on public.notes to service_role;

create table public.tags (
  id bigint generated always as identity primary key,
  note_id bigint not null references public.notes (id) on delete cascade,
  label text not null
);
alter table public.tags enable row level security;
grant select on public.tags to anon, authenticated;
grant all on public.tags to service_role;

-- A policy that reads its own table: infinite recursion at run time.
create table public.admins (user_id uuid primary key references auth.users (id));
alter table public.admins enable row level security;
grant select on public.admins to authenticated;

-- No RLS and a blanket grant: anyone may do anything.
create table public.open_door (id int primary key, note text not null);
grant all on public.open_door to anon, authenticated;

create view public.published_notes with (security_invoker = on) as
  select id, body from public.notes where status = 'published';
grant select on public.published_notes to anon, authenticated;
`,
	"policies/notes.sql": `
drop policy if exists notes_select_published on public.notes;
create policy notes_select_published on public.notes for select to anon, authenticated using (status = 'published' or owner = (select auth.uid()));
drop policy if exists notes_insert_own on public.notes;
create policy notes_insert_own on public.notes for insert to authenticated with check (owner = (select auth.uid()));
drop policy if exists notes_update_own on public.notes;
create policy notes_update_own on public.notes for update to authenticated using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
`,
	"policies/admins.sql": `
drop policy if exists admins_select_admin on public.admins;
create policy admins_select_admin on public.admins for select to authenticated
  using (exists (select 1 from public.admins a where a.user_id = (select auth.uid())));
`,
	"procedures/note_publish.sql": `
create or replace function public.note_publish(note_id bigint) returns setof public.notes
language plpgsql security definer set search_path = '' as $$
begin
  if note_id is null then
    raise exception using errcode = '22023', message = 'note_id is required', constraint = 'note_id_required';
  end if;
  return query update public.notes n set status = 'published' where n.id = note_publish.note_id and n.owner = auth.uid() returning n.*;
end $$;
revoke execute on function public.note_publish(bigint) from public;
grant execute on function public.note_publish(bigint) to authenticated;
`,
}

func project(t testing.TB) dbtest.Project {
	dir := t.TempDir()
	for p, c := range fixture {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644)
	}
	return dbtest.Project{Dir: dir}
}

func cellsByKey(m *Matrix) map[string]string {
	out := map[string]string{}
	for _, c := range m.Cells {
		out[c.Schema+"."+c.Object+" "+c.Command+" "+c.Role] = c.Label()
	}
	return out
}

func TestMatrixClassifiesPrecisely(t *testing.T) {
	t.Parallel()
	db := dbtest.NewFor(t, project(t))
	m, err := Run(context.Background(), db.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := cellsByKey(m)
	want := map[string]string{
		// The seeded note is a draft owned by "owner": hidden from others.
		"public.notes select anon":         "empty",
		"public.notes select stranger":     "empty",
		"public.notes select owner":        "rows 1",
		"public.notes select service_role": "rows 1",
		"public.notes insert anon":         "denied", // no INSERT privilege
		"public.notes insert stranger":     "rows 1", // owner defaults to auth.uid()
		"public.notes update stranger":     "empty",  // filtered by RLS
		"public.notes update owner":        "rows 1",
		"public.notes delete owner":        "empty", // no DELETE policy
		"public.notes delete anon":         "denied",
		"public.notes truncate stranger":   "denied",
		// Privilege allows it, the foreign key from tags does not.
		"public.notes truncate service_role": "error 0A000",
		"public.tags truncate service_role":  "rows 1",
		// The recursive policy is a finding, never a pass.
		"public.admins select stranger": "error 42P17",
		// No RLS and a blanket grant.
		"public.open_door select anon":   "rows 1",
		"public.open_door truncate anon": "rows 1",
		"public.open_door delete anon":   "rows 1",
		// A security_invoker view applies the table's RLS.
		"public.published_notes select anon":  "empty",
		"public.published_notes select owner": "empty",
		// Functions: privilege denial vs the body refusing bad input.
		"public.note_publish(bigint) execute anon":     "denied",
		"public.note_publish(bigint) execute stranger": "error 22023",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	findings := m.Findings()
	var recursion bool
	for _, f := range findings {
		if f.SQLState == "42P17" && f.Object == "admins" {
			recursion = true
		}
	}
	if !recursion {
		t.Errorf("recursive policy not among the findings: %+v", findings)
	}
	if len(m.Unseeded) != 0 {
		t.Errorf("could not seed %v", m.Unseeded)
	}
}

func TestExpectedFileRoundTripAndDiff(t *testing.T) {
	t.Parallel()
	db := dbtest.NewFor(t, project(t))
	ctx := context.Background()
	m, err := Run(ctx, db.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WriteMarkdown(&buf, m)
	exp, err := ParseMarkdown(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(exp, m); len(d) != 0 {
		t.Fatalf("a freshly written file differs from its matrix: %v", d)
	}
	// Running again gives the same matrix (deterministic).
	m2, err := Run(ctx, db.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(exp, m2); len(d) != 0 {
		t.Fatalf("second run differs: %v", d)
	}
	// A change in the database shows up as a readable difference.
	if err := db.AsOwner(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "grant select on public.admins to anon")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m3, err := Run(ctx, db.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := Diff(exp, m3)
	if len(d) != 1 || !strings.Contains(d[0].String(), "public.admins select anon: expected denied, live empty") {
		t.Fatalf("diff after granting insert to anon: %v", d)
	}
}

func TestDeclaredPersona(t *testing.T) {
	t.Parallel()
	db := dbtest.NewFor(t, project(t))
	m, err := Run(context.Background(), db.URL, Options{Personas: []Persona{{
		Name:  "admin",
		Setup: "insert into public.admins (user_id) values (:id)",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	got := cellsByKey(m)
	if got["public.notes select admin"] != "empty" || got["public.admins select admin"] != "error 42P17" {
		t.Errorf("admin persona: notes %q admins %q", got["public.notes select admin"], got["public.admins select admin"])
	}
	if len(m.Roles) != 5 {
		t.Errorf("roles %v", m.Roles)
	}
}

// A view that fails even for its owner does not abort the matrix.
func TestViewFailingForOwnerDoesNotAbort(t *testing.T) {
	t.Parallel()
	db := dbtest.NewFor(t, project(t))
	ctx := context.Background()
	if err := db.AsOwner(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `create view public.broken as select 1 as x from public.notes where 1 / (select count(*) - count(*) from public.notes) = 1;
			grant select on public.broken to anon`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m, err := Run(ctx, db.URL, Options{})
	if err != nil {
		t.Fatalf("matrix aborted: %v", err)
	}
	if got := cellsByKey(m)["public.broken select anon"]; got != "error 22012" {
		t.Errorf("broken view as anon: %q, want error 22012", got)
	}
}
