package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/pgserver"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv("DBTOOL_CLI_CHILD") == "1" {
		// Run as the dbtool binary (for signal tests).
		os.Exit(Main(strings.Split(os.Getenv("DBTOOL_CLI_ARGS"), "\x1f"), os.Stdout, os.Stderr))
	}
	pgtest.Main(m)
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		path := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var files = map[string]string{
	"migrations/20260101000000_notes.up.sql": "create table public.notes (id int primary key, body text not null);\nalter table public.notes enable row level security;\ngrant select on public.notes to authenticated;\n",
	"procedures/note_count.sql":              "create or replace function public.note_count() returns bigint language sql stable set search_path = '' as $$ select count(*) from public.notes $$;\n",
	"policies/notes.sql":                     "drop policy if exists notes_select_all on public.notes;\ncreate policy notes_select_all on public.notes for select to authenticated using (true);\n",
}

func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	common := []string{"--dir", dir, "--database-url", url}

	code, out, errOut := run(t, append([]string{"migrate", "up"}, common...)...)
	if code != ExitOK || !strings.Contains(out, "applied   "+filepath.Join(dir, "migrations/20260101000000_notes.up.sql")) || !strings.Contains(out, "applied   "+filepath.Join(dir, "policies/notes.sql")) ||
		strings.Count(out+errOut, "20260101000000_notes") != 1 {
		t.Fatalf("up: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"migrate", "up"}, common...)...)
	if code != ExitOK || !strings.Contains(out, "nothing to apply") {
		t.Fatalf("second up: exit %d: %s", code, out)
	}
	code, out, _ = run(t, append([]string{"migrate", "status", "--format", "json"}, common...)...)
	var st struct {
		Entries []struct{ Path, State string }
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &st) != nil || len(st.Entries) != 3 {
		t.Fatalf("status json: exit %d: %s", code, out)
	}
	for _, e := range st.Entries {
		if e.State != "applied" {
			t.Errorf("%s: %s", e.Path, e.State)
		}
	}
	if code, out, _ = run(t, append([]string{"migrate", "verify"}, common...)...); code != ExitOK {
		t.Fatalf("verify on a clean database: exit %d: %s", code, out)
	}

	// Drift: exit 1 and the object named.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	conn.Exec(context.Background(), "drop policy notes_select_all on public.notes")
	conn.Close(context.Background())
	code, out, _ = run(t, append([]string{"migrate", "verify", "--format", "json"}, common...)...)
	if code != ExitProblems || !strings.Contains(out, "notes_select_all") || !strings.Contains(out, `"drift"`) {
		t.Fatalf("verify after a hand change: exit %d: %s", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	down := t.TempDir()
	writeFiles(t, down, map[string]string{"migrations/20260101000000_a.up.sql": "select 1;", "migrations/20260101000000_a.down.sql": "select 1;"})
	bad := t.TempDir()
	writeFiles(t, bad, map[string]string{"migrations/20260101000000_bad.up.sql": "create tabel oops;"})

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"down file", []string{"migrate", "up", "--dir", down, "--database-url", url}, ExitProblems, "forward-only"},
		{"failing file", []string{"migrate", "up", "--dir", bad, "--database-url", url}, ExitProblems, "20260101000000_bad.up.sql:1:8: ERROR 42601"},
		{"unknown flag", []string{"migrate", "up", "--nope"}, ExitUsage, "unknown flag"},
		{"bad backend", []string{"migrate", "status", "--backend", "podman"}, ExitUsage, "unknown backend"},
		{"new without name", []string{"migrate", "new"}, ExitUsage, "accepts 1 arg"},
		{"no server", []string{"migrate", "status", "--dir", t.TempDir(), "--database-url", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, ExitCannot, "connect"},
	}
	for _, c := range cases {
		code, out, errOut := run(t, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%s: exit %d (want %d), output:\n%s%s", c.name, code, c.code, out, errOut)
		}
	}
}

func TestMigrateNew(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, "migrate", "new", "add bookings", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := strings.TrimSpace(out)
	if !regexp.MustCompile(`^migrations/\d{14}_add_bookings\.up\.sql$`).MatchString(path) {
		t.Fatalf("path %q", path)
	}
	if _, err := os.Stat(filepath.Join(dir, path)); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "migrations", "*.down.sql")); len(m) != 0 {
		t.Errorf("new created a down file: %v", m)
	}
}

// Ctrl-C during `migrate up` on a throwaway database stops and removes it.
func TestInterruptRemovesThrowawayCluster(t *testing.T) {
	if _, err := pgserver.FindBinDir(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"migrations/20260101000000_slow.up.sql": "select pg_sleep(30);"})
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "DBTOOL_CLI_CHILD=1", "DATABASE_URL=", "DBTOOL_BACKEND=local",
		"DBTOOL_CLI_ARGS="+strings.Join([]string{"migrate", "up", "-v", "--dir", dir}, "\x1f"))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`throwaway PostgreSQL in (\S+) `)
	var clusterDir string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil && strings.Contains(stderr.String(), "applying") {
			clusterDir = m[1]
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if clusterDir == "" {
		cmd.Process.Kill()
		t.Fatalf("child never started migrating: %s", stderr.String())
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("dbtool did not exit within 30s of Ctrl-C")
	}
	if _, err := os.Stat(clusterDir); !os.IsNotExist(err) {
		t.Errorf("throwaway cluster %s left behind after Ctrl-C (stderr: %s)", clusterDir, stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted || !strings.Contains(stderr.String(), "interrupted; cleaned up") {
		t.Errorf("exit code after Ctrl-C = %d, want %d and 'interrupted; cleaned up' (stderr: %s)", code, ExitInterrupted, stderr.String())
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPolicyMatrixUpdateThenCheck(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	common := []string{"--dir", dir, "--database-url", url}
	if code, out, errOut := run(t, append([]string{"policy", "matrix", "--check", "--migrate"}, common...)...); code != ExitProblems || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("check without an expected file: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(t, append([]string{"policy", "matrix", "--update"}, common...)...); code != ExitOK {
		t.Fatalf("update: exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "policies", "ACCESS.md"))
	if err != nil || !strings.Contains(string(b), "| public.notes | table | select | denied | rows 1 | rows 1 | denied |") {
		t.Fatalf("expected file:\n%s (%v)", b, err)
	}
	if code, out, errOut := run(t, append([]string{"policy", "matrix", "--check"}, common...)...); code != ExitOK {
		t.Fatalf("check after update: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ := run(t, append([]string{"policy", "matrix", "--format", "json"}, common...)...)
	var doc struct {
		Cells      []map[string]any `json:"cells"`
		Findings   []map[string]any `json:"findings"`
		Judgements []map[string]any `json:"judgements"`
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Cells) == 0 || doc.Findings == nil || doc.Judgements == nil {
		t.Fatalf("json: exit %d: %.300s", code, out)
	}
	cells := doc.Cells
	for _, k := range []string{"schema", "object", "kind", "role", "command", "outcome", "rows", "sqlstate"} {
		if _, ok := cells[0][k]; !ok {
			t.Errorf("json cell lacks %q: %v", k, cells[0])
		}
	}
	// A grant changed by hand: --check fails with a readable diff.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	conn.Exec(context.Background(), "grant select on public.notes to anon")
	conn.Close(context.Background())
	code, out, _ = run(t, append([]string{"policy", "matrix", "--check"}, common...)...)
	if code != ExitProblems || !strings.Contains(out, "~ public.notes select anon: expected denied, live empty") {
		t.Fatalf("check after a grant: exit %d\n%s", code, out)
	}
}

func TestDBToolTestWritesJUnit(t *testing.T) {
	t.Parallel()
	srv := pgtest.Server(t)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	// The expected file says anon may read notes: the check must fail.
	writeFiles(t, dir, map[string]string{"policies/ACCESS.md": "| object | kind | command | anon | stranger | owner | service_role |\n|---|---|---|---|---|---|---|\n" +
		"| public.notes | table | select | rows 1 | empty | empty | rows 1 |\n"})
	junit := filepath.Join(t.TempDir(), "report.xml")
	code, out, errOut := run(t, "test", "--dir", dir, "--database-url", srv.URL, "--junit", junit)
	if code != ExitProblems {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(b), `<testcase name="access matrix matches policies/ACCESS.md"`) || !strings.Contains(string(b), "<failure") {
		t.Fatalf("junit report:\n%s (%v)", b, err)
	}
}

// flawed is a project with a table exposed without RLS, a TRUNCATE grant and
// a SECURITY DEFINER function anyone may call that writes without checking.
var flawed = map[string]string{
	"migrations/20260101000000_flawed.up.sql": `
create table public.open_door (id int primary key, note text not null);
grant select, insert, truncate on public.open_door to anon, authenticated;
create table public.notes (id int primary key, body text not null);
alter table public.notes enable row level security;
grant select on public.notes to authenticated;
`,
	"policies/notes.sql": "drop policy if exists notes_select_all on public.notes;\ncreate policy notes_select_all on public.notes for select to authenticated using (true);\n",
	"procedures/note_wipe.sql": `create or replace function public.note_wipe() returns void language plpgsql security definer as $$
begin delete from public.notes; end $$;
grant execute on function public.note_wipe() to anon, authenticated;
`,
}

func TestLintFormatsAndExitCodes(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, flawed)
	if code, out, errOut := run(t, "migrate", "up", "--dir", dir, "--database-url", url); code != ExitOK {
		t.Fatalf("up: %d %s %s", code, out, errOut)
	}
	common := []string{"--dir", dir, "--database-url", url}
	code, out, _ := run(t, append([]string{"lint", "--format", "json"}, common...)...)
	var res struct {
		Findings []map[string]any `json:"findings"`
	}
	if code != ExitProblems || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("lint json: exit %d\n%.500s", code, out)
	}
	rules := map[string]bool{}
	for _, f := range res.Findings {
		for _, k := range []string{"rule", "level", "category", "object", "object_type", "detail", "remediation"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding lacks %q: %v", k, f)
			}
		}
		rules[f["rule"].(string)+" "+f["object"].(string)] = true
		if f["object_type"] == "function" {
			// A routine's object is its name; its argument types are a field of their own.
			if strings.Contains(f["object"].(string), "(") {
				t.Errorf("function finding: object %q should be the bare name, signature %v", f["object"], f["signature"])
			}
		}
	}
	for _, want := range []string{"rls_disabled_in_public public.open_door", "truncate_granted_to_api_role public",
		"security_definer_no_search_path_api public.note_wipe", "security_definer_unchecked_write public.note_wipe"} {
		if !rules[want] {
			t.Errorf("lint did not report %s; got %v", want, rules)
		}
	}
	if code, _, _ := run(t, append([]string{"lint", "--fail-on", "none"}, common...)...); code != ExitOK {
		t.Errorf("--fail-on none: exit %d", code)
	}
	code, out, _ = run(t, append([]string{"lint", "--format", "sarif"}, common...)...)
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if json.Unmarshal([]byte(out), &sarif) != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) == 0 {
		t.Errorf("sarif: exit %d\n%.400s", code, out)
	}
	code, out, _ = run(t, append([]string{"lint", "--format", "junit"}, common...)...)
	if !strings.Contains(out, `<testsuite name="dbtool lint"`) || !strings.Contains(out, "<failure") {
		t.Errorf("junit: exit %d\n%.400s", code, out)
	}
	code, out, _ = run(t, append([]string{"lint", "--format", "markdown"}, common...)...)
	if !strings.Contains(out, "| level | rule | object |") || !strings.Contains(out, "`rls_disabled_in_public`") {
		t.Errorf("markdown: exit %d\n%.400s", code, out)
	}
	if code, _, errOut := run(t, append([]string{"lint", "--format", "yaml"}, common...)...); code != ExitUsage {
		t.Errorf("unknown format: exit %d %s", code, errOut)
	}
	// A reviewed ignore with a reason silences a finding; without a reason it is refused.
	writeFiles(t, dir, map[string]string{"lint-ignore.yaml": "ignores:\n  - {rule: truncate_granted_to_api_role, object: public, reason: test}\n"})
	_, out, _ = run(t, append([]string{"lint", "--format", "json"}, common...)...)
	var ign struct {
		Findings []struct{ Rule, Object string }
		Ignored  []struct{ Rule, Object, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &ign); err != nil {
		t.Fatal(err)
	}
	for _, f := range ign.Findings {
		if f.Rule == "truncate_granted_to_api_role" {
			t.Errorf("ignored finding still reported: %+v", f)
		}
	}
	if len(ign.Ignored) != 1 || ign.Ignored[0].Reason != "test" || ign.Ignored[0].Object != "public" {
		t.Errorf("ignored findings: %+v", ign.Ignored)
	}
	writeFiles(t, dir, map[string]string{"lint-ignore.yaml": "ignores:\n  - {rule: truncate_granted_to_api_role, object: public}\n"})
	if code, _, errOut := run(t, append([]string{"lint"}, common...)...); code != ExitProblems || !strings.Contains(errOut, "reason") {
		t.Errorf("ignore without reason: exit %d %s", code, errOut)
	}
}

func TestCoverageAndCheckGate(t *testing.T) {
	t.Parallel()
	srv := pgtest.Server(t)
	dir := t.TempDir()
	writeFiles(t, dir, flawed)
	url := pgtest.EmptyDatabase(t)
	run(t, "migrate", "up", "--dir", dir, "--database-url", url)
	code, out, _ := run(t, "policy", "coverage", "--dir", dir, "--database-url", url, "--format", "json")
	var cov struct {
		Objects []struct{ Name, Verdict string }
		Percent float64
	}
	// open_door is exposed without RLS: always a failure (exit 1), with the JSON on stdout.
	if code != ExitProblems || json.Unmarshal([]byte(out), &cov) != nil {
		t.Fatalf("coverage json: exit %d %.300s", code, out)
	}
	verdicts := map[string]string{}
	for _, o := range cov.Objects {
		verdicts[o.Name] = o.Verdict
	}
	if verdicts["open_door"] != "exposed_without_rls" || verdicts["notes"] != "covered" || cov.Percent != 50 {
		t.Errorf("coverage: %v %.1f%%", verdicts, cov.Percent)
	}
	if code, _, _ := run(t, "policy", "coverage", "--dir", dir, "--database-url", url, "--fail-under", "90"); code != ExitProblems {
		t.Errorf("--fail-under 90 at 50%%: exit %d", code)
	}
	// The gate on a flawed project: exit 1, every gate reported.
	html := filepath.Join(t.TempDir(), "report.html")
	code, out, errOut := run(t, "check", "--dir", dir, "--database-url", srv.URL, "--html", html)
	if code != ExitProblems {
		t.Fatalf("check on a flawed project: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"PASS  migrate up", "PASS  migrate verify", "FAIL  coverage", "FAIL  lint", "FAIL  policy matrix", "check failed: 3 of 5 gates"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), `id="grid"`) {
		t.Errorf("report not written: %v", err)
	}
}

// A Supabase project that schedules a job with pg_cron checks on dbtool's
// throwaway server as on Supabase: pg_cron preloaded (when installed), the
// project in the database postgres.
func TestCheckThrowawayWithPgCron(t *testing.T) {
	bin, err := pgserver.FindBinDir()
	if err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(filepath.Join(bin, "..", "lib", "pg_cron.so")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pg_cron is not installed (Debian: postgresql-15-cron); CI installs it")
		}
		t.Skip("pg_cron not installed")
	}
	t.Setenv("DATABASE_URL", "")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"supabase/migrations/20260101000000_reminders.sql": `create extension if not exists pg_cron with schema pg_catalog;
create table public.reminders (id bigint generated always as identity primary key, due timestamptz not null);
alter table public.reminders enable row level security;
select cron.schedule('purge-reminders', '0 3 * * *', $$delete from public.reminders where due < now() - interval '30 days'$$);
`,
	})
	code, out, errOut := run(t, "check", "--dir", dir, "--backend", "local")
	if !strings.Contains(out, "PASS  migrate up") || strings.Contains(out+errOut, "cron.database_name") {
		t.Fatalf("check (exit %d): migrate up should pass with pg_cron preloaded:\n%s\n%s", code, out, errOut)
	}
}

// A folder with nothing dbtool reads does not pass the gate: exit 2 and
// where dbtool looked.
func TestCheckRefusesAnEmptyProject(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"README.md": "no SQL here\n"})
	code, out, errOut := run(t, "check", "--dir", dir)
	if code != 2 || !strings.Contains(errOut, "nothing to check in "+dir) || !strings.Contains(errOut, filepath.Join(dir, "supabase", "migrations")) {
		t.Fatalf("check of an empty folder: exit %d\n%s\n%s", code, out, errOut)
	}
}
