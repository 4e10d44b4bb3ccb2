package cli

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// gitInit commits dir's files as the base a plan compares with.
func gitInit(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"init", "-q"}, {"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"},
	} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

func TestMigratePlan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	gitInit(t, dir)

	// Nothing uncommitted: nothing to plan, exit 0.
	if code, _, stderr := run(t, "migrate", "plan", "--dir", dir, "--no-matrix"); code != 0 || !strings.Contains(stderr, "nothing to plan") {
		t.Fatalf("clean tree: want exit 0 and 'nothing to plan', got %d\n%s", code, stderr)
	}

	// A pending file that indexes an existing table without CONCURRENTLY
	// and a loosened policy.
	writeFiles(t, dir, map[string]string{
		"migrations/20260201000000_index.up.sql": "create index notes_body_idx on public.notes (body);\n",
		"policies/notes.sql": "drop policy if exists notes_select_all on public.notes;\ncreate policy notes_select_all on public.notes for select to authenticated using (true);\n" +
			"grant insert on public.notes to anon;\ndrop policy if exists notes_insert_anon on public.notes;\ncreate policy notes_insert_anon on public.notes for insert to anon with check (true);\n",
	})
	code, stdout, stderr := run(t, "migrate", "plan", "--dir", dir, "--format", "json", "--rows", "20")
	if code != 1 {
		t.Fatalf("want exit 1 (error-level findings), got %d\n%s\n%s", code, stdout, stderr)
	}
	var res struct {
		Findings []struct{ Rule, Level, File, Object, Detail string }
		Access   []struct{ Sign, Role, Command, Object string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--format json must print JSON only: %v\n%s", err, stdout)
	}
	rules := map[string]string{}
	for _, f := range res.Findings {
		rules[f.Rule] = f.Level
	}
	if rules["index_not_concurrently"] != "error" || rules["access_opened"] != "error" {
		t.Fatalf("want index_not_concurrently and access_opened errors, got %+v", res.Findings)
	}
	var anonInsert bool
	for _, c := range res.Access {
		if c.Sign == "+" && c.Role == "anon" && c.Command == "insert" && c.Object == "public.notes" {
			anonInsert = true
		}
	}
	if !anonInsert {
		t.Fatalf("access diff: want + anon insert public.notes, got %+v", res.Access)
	}

	code, stdout, _ = run(t, "migrate", "plan", "--dir", dir, "--format", "markdown", "--no-matrix")
	if code != 1 || !strings.Contains(stdout, "| error | P002 `index_not_concurrently` | `migrations/20260201000000_index.up.sql:1` |") {
		t.Fatalf("markdown: want the P002 row, got %d\n%s", code, stdout)
	}
	if code, _, stderr := run(t, "migrate", "plan", "--dir", dir, "--format", "yaml"); code != 2 || !strings.Contains(stderr, "unknown --format") {
		t.Fatalf("bad --format: want exit 2, got %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "migrate", "plan", "--dir", dir, "--base", "no-such-ref"); code != 2 || !strings.Contains(stderr, "no-such-ref") {
		t.Fatalf("bad --base: want exit 2 naming the ref, got %d %s", code, stderr)
	}
}

func TestCheckPlansChangesSinceBase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	gitInit(t, dir)
	writeFiles(t, dir, map[string]string{"migrations/20260201000000_index.up.sql": "create index notes_body_idx on public.notes (body);\n"})
	code, stdout, stderr := run(t, "check", "--dir", dir, "--database-url", pgtest.Server(t).URL, "--base", "HEAD")
	if code != 1 || !strings.Contains(stdout+stderr, "FAIL  migrate plan") || !strings.Contains(stdout+stderr, "index_not_concurrently") {
		t.Fatalf("want the plan gate to fail on the index, got %d\n%s\n%s", code, stdout, stderr)
	}
}
