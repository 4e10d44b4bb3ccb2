package pgtap_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/pgtap"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// A suite in the shape the Supabase test helpers' README recommends: the
// first file installs helpers and commits, the middle files use them and
// roll back, the last drops them. Under pg_prove (one database, in order)
// every file passes; so under dbtool test, with the middle files in
// parallel and a file's writes invisible to its neighbours.
func TestOrderDependentSuite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := writer(t, dir)
	write("migrations/20260101000000_items.up.sql", "create table public.items (id int primary key);\n")
	write("tests/000-setup.sql", `create schema helpers;
create function helpers.answer() returns int language sql as $$ select 42 $$;
select plan(1);
select has_function('helpers', 'answer', 'helpers installed');
select * from finish();
`)
	for _, n := range []string{"010-a", "020-b", "030-c"} {
		write("tests/"+n+".sql", `begin;
select plan(3);
select is(helpers.answer(), 42, 'the setup file''s helpers are there');
select is((select count(*) from public.items)::int, 0, 'no other file''s rows');
insert into public.items values (1);
select is((select count(*) from public.items)::int, 1, 'my row');
select * from finish();
rollback;
`)
	}
	write("tests/999-teardown.sql", `drop schema helpers cascade;
begin;
select plan(1);
select hasnt_schema('helpers', 'helpers removed');
select * from finish();
rollback;
`)
	srvURL, base, files := prepareSuite(t, dir, 5)
	res := pgtap.Run(ctx, files, pgtap.Options{Dir: dir, Workers: 3, Server: srvURL, Template: base})
	total := 0
	for _, f := range res {
		pass, fail, _ := f.Counts()
		total += pass
		if f.Failed() || fail > 0 {
			t.Errorf("%s failed: %s %+v", f.Path, f.Error, f.Tests)
		}
	}
	if total != 11 {
		t.Errorf("%d tests passed, want 11 (1 + 3x3 + 1)", total)
	}
	conn, err := pgx.Connect(ctx, srvURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, `select count(*) from pg_database where datname like 'dbtool\_tap\_%'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d clones left behind", left)
	}
}

// Files see what pg_prove running them one after another on one database
// would show them, and nothing of the files that roll back: rows are
// rolled back, sequences put back (the same next id for every file after
// the same state), a file that stops on an error leaves nothing behind; a
// file that commits leaves its rows to the files after it, not to those
// before. One worker, so that the rolled-back files share clones.
func TestRunIsolatesFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	write := writer(t, dir)
	write("migrations/20260101000000_notes.up.sql", `create table public.notes (id bigint generated always as identity primary key, body text not null);
create sequence public.tickets;
`)
	mine := func(rows int) string {
		return fmt.Sprintf(`begin;
select plan(3);
insert into public.notes (body) values ('mine');
select is((select max(id) from public.notes), %[1]d::bigint, 'my id is %[1]d');
select is((select count(*) from public.notes)::int, %[1]d, '%[1]d rows');
select is(nextval('public.tickets'), %[1]d::bigint, 'ticket %[1]d');
select * from finish();
rollback;
`, rows)
	}
	write("tests/a_first.sql", mine(1))
	write("tests/b_stops.sql", `begin;
select plan(2);
insert into public.notes (body) values ('left behind?');
select nextval('public.tickets');
select ok(true, 'before the error');
select * from no_such_table;
select ok(true, 'never');
rollback;
`)
	write("tests/c_commits.sql", `insert into public.notes (body) values ('committed');
select nextval('public.tickets');
select plan(1);
select is((select count(*) from public.notes)::int, 1, 'committed row');
select * from finish();
`)
	write("tests/d_after.sql", mine(2))
	write("tests/e_after.sql", mine(2))
	write("tests/f_also_commits.sql", `begin;
select plan(1);
insert into public.notes (body) values ('committed too');
select nextval('public.tickets');
select pass('in a transaction it commits');
select * from finish();
commit;
`)
	write("tests/g_last.sql", mine(3))
	srvURL, base, files := prepareSuite(t, dir, 7)
	res := pgtap.Run(ctx, files, pgtap.Options{Dir: dir, Workers: 1, Server: srvURL, Template: base})
	for _, f := range res {
		t.Logf("%s [%s] planned %d, %d tests, error %q", f.Path, f.Isolation, f.Planned, len(f.Tests), f.Error)
		switch f.Path {
		case "tests/b_stops.sql":
			if !f.Failed() || !strings.Contains(f.Error, "no_such_table") || len(f.Tests) != 1 {
				t.Errorf("%s: want a failure at no_such_table after 1 test, got %+v", f.Path, f)
			}
		default:
			if f.Failed() {
				t.Errorf("%s failed: %s %+v", f.Path, f.Error, f.Tests)
			}
		}
		wantShared := f.Path != "tests/c_commits.sql" && f.Path != "tests/f_also_commits.sql"
		if got := f.Isolation == "transaction"; got != wantShared {
			t.Errorf("%s: isolation %q", f.Path, f.Isolation)
		}
	}
}

// psql gets the file itself, as from pg_prove: \ir includes from the
// file's folder, and psql's messages name the file and line.
func TestRunIncludesFromTheFilesFolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	write := writer(t, dir)
	write("supabase/migrations/20260101000000_t.sql", "create table public.t (id int);\n")
	write("supabase/tests/database/lib/answer.psql", "create function public.answer() returns int language sql as $$ select 42 $$;\n")
	write("supabase/tests/database/01-include.sql", `\ir lib/answer.psql
begin;
select plan(1);
select is(public.answer(), 42, 'the included function');
select * from finish();
rollback;
`)
	write("supabase/tests/database/02-error.sql", `begin;
select plan(1);
select * from public.missing;
rollback;
`)
	srvURL, base, files := prepareSuite(t, dir, 2)
	res := pgtap.Run(ctx, files, pgtap.Options{Dir: dir, Workers: 2, Server: srvURL, Template: base})
	if f := res[0]; f.Failed() || len(f.Tests) != 1 || !strings.Contains(f.Isolation, `\ir`) {
		t.Errorf("%s: %s %q %+v", f.Path, f.Isolation, f.Error, f.Tests)
	}
	if f := res[1]; !strings.Contains(f.Error, "02-error.sql:3: ERROR") {
		t.Errorf("%s: the error does not name the file and line: %q", f.Path, f.Error)
	}
}

// dbtool's basejump helpers exist where a file creates the extension, in
// its transaction, as the extension would: not for the next file on the
// same clone, which did not ask for them. One worker, one clone.
func TestRunHelpersOnlyWhereCreated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	write := writer(t, dir)
	write("supabase/migrations/20260101000000_t.sql", "create table public.t (id int);\n")
	write("supabase/tests/01-uses.sql", `begin;
select plan(2);
select hasnt_schema('tests', 'no tests schema before the extension');
create extension "basejump-supabase_test_helpers";
select has_function('tests', 'authenticate_as', array['text'], 'the helpers after it');
select * from finish();
rollback;
`)
	write("supabase/tests/02-does-not.sql", `begin;
select plan(1);
select hasnt_schema('tests', 'no helpers for a file that did not create them');
select * from finish();
rollback;
`)
	srvURL, base, files := prepareSuite(t, dir, 2)
	res := pgtap.Run(ctx, files, pgtap.Options{Dir: dir, Workers: 1, Server: srvURL, Template: base})
	for _, f := range res {
		if f.Failed() || f.Isolation != "transaction" {
			t.Errorf("%s [%s]: %s %+v", f.Path, f.Isolation, f.Problem(), f.Tests)
		}
	}
}

// writer writes project files under dir.
func writer(t testing.TB, dir string) func(rel, s string) {
	return func(rel, s string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// prepareSuite builds the project's template with pgTAP on the shared test
// server and discovers its want test files; it returns the server's URL,
// the template and the files.
func prepareSuite(t testing.TB, dir string, want int) (string, string, []string) {
	t.Helper()
	ctx := context.Background()
	srv := pgtest.Server(t)
	tpl, err := dbtest.PrepareTemplate(ctx, srv.URL, dbtest.Project{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	base, err := pgtap.Template(ctx, srv.URL, tpl.Name)
	if err != nil {
		t.Fatal(err)
	}
	files, err := pgtap.Discover(dir)
	if err != nil || len(files) != want {
		t.Fatalf("discover: %v %v", err, files)
	}
	return srv.URL, base, files
}
