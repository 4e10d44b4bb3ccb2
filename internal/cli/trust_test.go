package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// A CLI a pipeline can trust: each test below failed before its fix.

func TestStatusExitsOneOnEditedAndRepairAcceptsIt(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	common := []string{"--dir", dir, "--database-url", url}
	if code, out, errOut := run(t, append([]string{"migrate", "up"}, common...)...); code != ExitOK {
		t.Fatalf("up: %d %s %s", code, out, errOut)
	}
	if code, _, _ := run(t, append([]string{"migrate", "status"}, common...)...); code != ExitOK {
		t.Fatalf("status on a clean history: exit %d", code)
	}
	// A comment added to an applied file.
	mig := filepath.Join(dir, "migrations/20260101000000_notes.up.sql")
	b, _ := os.ReadFile(mig)
	os.WriteFile(mig, append([]byte("-- reviewed: notes table\n"), b...), 0o644)
	if code, out, _ := run(t, append([]string{"migrate", "status"}, common...)...); code != ExitProblems || !strings.Contains(out, "edited") {
		t.Fatalf("status with an edited file: exit %d\n%s", code, out)
	}
	code, out, errOut := run(t, append([]string{"migrate", "repair", "migrations/20260101000000_notes.up.sql"}, common...)...)
	if code != ExitOK || !strings.Contains(out, "accepted as edited") {
		t.Fatalf("repair: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := run(t, append([]string{"migrate", "status"}, common...)...); code != ExitOK {
		t.Fatalf("status after repair: exit %d", code)
	}
	// A CRLF checkout of the same content is not an edit.
	b, _ = os.ReadFile(mig)
	os.WriteFile(mig, []byte(strings.ReplaceAll(string(b), "\n", "\r\n")), 0o644)
	if code, out, _ := run(t, append([]string{"migrate", "verify"}, common...)...); code != ExitOK {
		t.Fatalf("verify with CRLF line ends: exit %d\n%s", code, out)
	}
}

func TestReadOnlyCommandsWithoutDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	for _, cmd := range [][]string{{"migrate", "status"}, {"migrate", "verify"}, {"migrate", "repair", "x.sql"}} {
		code, _, errOut := run(t, append(cmd, "--dir", dir, "--database-url", "")...)
		if code != ExitUsage || !strings.Contains(errOut, "DATABASE_URL") {
			t.Errorf("%v without a database: exit %d, %s", cmd, code, errOut)
		}
	}
}

func TestCoverageDefaultsAndUnknownSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	writeFiles(t, dir, map[string]string{"migrations/20260102000000_open.up.sql": "create table public.open_door (id int primary key);\ngrant select on public.open_door to anon;\n"})
	url := pgtest.EmptyDatabase(t)
	run(t, "migrate", "up", "--dir", dir, "--database-url", url)
	// No --fail-under: the documented default (100) applies; and an object
	// exposed without RLS always fails.
	if code, _, errOut := run(t, "policy", "coverage", "--dir", dir, "--database-url", url); code != ExitProblems || !strings.Contains(errOut, "without row level security") {
		t.Fatalf("coverage with an exposed table: exit %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "policy", "coverage", "--dir", dir, "--database-url", url, "--fail-under", "0"); code != ExitProblems {
		t.Fatalf("exposed without RLS must fail whatever --fail-under says: exit %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "policy", "coverage", "--dir", dir, "--database-url", url, "--schemas", "pubilc"); code != ExitUsage || !strings.Contains(errOut, "schema pubilc does not exist") {
		t.Fatalf("unknown schema: exit %d %s", code, errOut)
	}
}

func TestMigrateNewNeverReusesAVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if code, _, errOut := run(t, "migrate", "new", "--dir", dir, "step_"+string(rune('a'+i))); code != ExitOK {
				t.Errorf("new: %d %s", code, errOut)
			}
		}(i)
	}
	wg.Wait()
	entries, _ := os.ReadDir(filepath.Join(dir, "migrations"))
	seen := map[string]string{}
	for _, e := range entries {
		v, _, _ := strings.Cut(e.Name(), "_")
		if prev, dup := seen[v]; dup {
			t.Errorf("%s and %s share version %s", prev, e.Name(), v)
		}
		seen[v] = e.Name()
	}
	if len(seen) != 8 {
		t.Errorf("want 8 files with 8 versions, got %d", len(seen))
	}
	// The supabase layout gets the Supabase CLI's file name.
	sdir := t.TempDir()
	os.MkdirAll(filepath.Join(sdir, "supabase", "migrations"), 0o755)
	if code, out, _ := run(t, "migrate", "new", "--dir", sdir, "add_todos"); code != ExitOK || !strings.HasSuffix(strings.TrimSpace(out), "_add_todos.sql") || !strings.Contains(out, "supabase/migrations/") {
		t.Errorf("supabase layout: %d %q", code, out)
	}
}

func TestUsageErrorsChangeNothing(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	missing := filepath.Join(t.TempDir(), "nope")
	if code, _, errOut := run(t, "migrate", "up", "--dir", missing, "--database-url", url); code != ExitUsage || !strings.Contains(errOut, "no such folder") {
		t.Fatalf("missing --dir: exit %d %s", code, errOut)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"dbtool.yaml": "migrations: db/migrations\n"})
	if code, _, errOut := run(t, "migrate", "up", "--dir", dir, "--database-url", url); code != ExitUsage || !strings.Contains(errOut, "db/migrations: no such folder") {
		t.Fatalf("missing configured folder: exit %d %s", code, errOut)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), `select count(*) from pg_namespace where nspname in ('dbtool', 'auth')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a usage error installed something (%d schemas)", n)
	}
	os.Remove(filepath.Join(dir, "dbtool.yaml"))
	code, _, errOut := run(t, "migrate", "down", "--dir", dir)
	if code != ExitUsage || !strings.Contains(errOut, "no down migrations") || !strings.Contains(errOut, "dbtool migrate new revert_") {
		t.Fatalf("migrate down: exit %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "policy", "martix", "--dir", dir); code != ExitUsage || !strings.Contains(errOut, `unknown command "martix"`) {
		t.Fatalf("unknown subcommand: exit %d %s", code, errOut)
	}
	writeFiles(t, dir, map[string]string{"dbtool.yaml": "schemass: [public]\n"})
	if code, _, errOut := run(t, "lint", "--dir", dir); code != ExitUsage || !strings.Contains(errOut, `did you mean "schemas"`) {
		t.Fatalf("misspelt key: exit %d %s", code, errOut)
	}
}

func TestVersionAndScalarSchemas(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "version")
	if code != ExitOK || !strings.HasPrefix(out, "dbtool ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if v := versionString(); !strings.HasPrefix(v, "dbtool ") {
		t.Fatal(v)
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	writeFiles(t, dir, map[string]string{"dbtool.yaml": "schemas: public\n"})
	url := pgtest.EmptyDatabase(t)
	if code, out, errOut := run(t, "migrate", "up", "--dir", dir, "--database-url", url); code != ExitOK {
		t.Fatalf("schemas: public (a scalar): exit %d %s %s", code, out, errOut)
	}
}

// dbtool report writes the sections it has when one fails, and says which.
func TestReportWritesWhatItHas(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	writeFiles(t, dir, map[string]string{"lint-ignore.yaml": "ignores: [this is: not, valid\n"})
	html := filepath.Join(t.TempDir(), "report.html")
	code, _, errOut := run(t, "report", "--html", html, "--dir", dir)
	if code != ExitCannot || !strings.Contains(errOut, "without 1 section(s)") || !strings.Contains(errOut, "lint: ") {
		t.Fatalf("want exit 3 naming the failed section, got %d %s", code, errOut)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatalf("the page was not written: %v", err)
	}
	for _, want := range []string{`id="failed"`, `id="grid"`, `id="coverage"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// A legacy database adopts the gate: the baseline holds today's findings,
// later runs report (and fail on) only new ones.
func TestLintBaseline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	writeFiles(t, dir, map[string]string{"migrations/20260102000000_open.up.sql": "create table public.open_door (id int primary key);\ngrant select on public.open_door to anon;\n"})
	url := pgtest.EmptyDatabase(t)
	run(t, "migrate", "up", "--dir", dir, "--database-url", url)
	if code, _, _ := run(t, "lint", "--dir", dir, "--database-url", url); code != ExitProblems {
		t.Fatalf("the legacy database has an error-level finding: want exit 1, got %d", code)
	}
	base := filepath.Join(t.TempDir(), "lint-baseline.json")
	if code, _, errOut := run(t, "lint", "--dir", dir, "--database-url", url, "--write-baseline", base); code != ExitOK || !strings.Contains(errOut, "accepted as the baseline") {
		t.Fatalf("write-baseline: %d %s", code, errOut)
	}
	if code, out, errOut := run(t, "lint", "--dir", dir, "--database-url", url, "--baseline", base); code != ExitOK || !strings.Contains(errOut, "0 new") {
		t.Fatalf("nothing new: want exit 0, got %d\n%s%s", code, out, errOut)
	}
	// A new defect after the baseline is reported and fails.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	conn.Exec(context.Background(), "create table public.open_window (id int primary key); grant select on public.open_window to anon;")
	conn.Close(context.Background())
	code, out, _ := run(t, "lint", "--dir", dir, "--database-url", url, "--baseline", base)
	if code != ExitProblems || !strings.Contains(out, "public.open_window") || strings.Contains(out, "public.open_door ") {
		t.Fatalf("new finding: want exit 1 with open_window only, got %d\n%s", code, out)
	}
}

// A connection failure says which setting the URL came from and what to
// check.
func TestConnectionFailureNamesItsSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	code, _, errOut := run(t, "migrate", "up", "--dir", dir, "--database-url", "postgres://nobody@127.0.0.1:1/nowhere?connect_timeout=2")
	if code != ExitCannot || !strings.Contains(errOut, "from --database-url") || !strings.Contains(errOut, "check that the server is running") {
		t.Fatalf("want exit 3 naming --database-url, got %d %s", code, errOut)
	}
	if strings.Count("\n"+errOut, "\nerror:") != 1 {
		t.Errorf("the error must be printed once:\n%s", errOut)
	}
}

// A matrix difference that opens access to anon or a stranger is printed
// first, under its own heading.
func TestMatrixCheckPrintsLeaksFirst(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	common := []string{"--dir", dir, "--database-url", url}
	run(t, append([]string{"migrate", "up"}, common...)...)
	if code, out, errOut := run(t, append([]string{"policy", "matrix", "--update"}, common...)...); code != ExitOK {
		t.Fatalf("update: %d %s %s", code, out, errOut)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	conn.Exec(context.Background(), `grant select on public.notes to anon;
		create policy notes_anon on public.notes for select to anon using (true);
		revoke execute on function public.note_count() from authenticated`)
	conn.Close(context.Background())
	code, out, _ := run(t, append([]string{"policy", "matrix", "--check"}, common...)...)
	if code != ExitProblems || !strings.HasPrefix(out, "access opened for anon or a stranger (1):\n  ~ public.notes select anon") {
		t.Fatalf("leak not first: %d\n%s", code, out)
	}
}
