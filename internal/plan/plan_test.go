package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtool-dev/dbtool/internal/migrate"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
	"github.com/dbtool-dev/dbtool/internal/plan"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// repoRoot is the repository checkout (the reference backbone).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyProject copies the backbone's migrations/, procedures/ and policies/
// into a temporary folder and applies edits (path -> content; "" deletes).
func copyProject(t testing.TB, edits map[string]string) migrate.Project {
	t.Helper()
	src := repoRoot(t)
	dst := t.TempDir()
	for _, d := range []string{"migrations", "procedures", "policies"} {
		err := filepath.WalkDir(filepath.Join(src, d), func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out := filepath.Join(dst, rel)
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for rel, content := range edits {
		p := filepath.Join(dst, rel)
		if content == "" {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return migrate.Project{Dir: dst}
}

func runPlan(t testing.TB, edits map[string]string, rows int, matrix bool) *plan.Result {
	t.Helper()
	res, err := plan.Run(context.Background(), plan.Options{
		ServerURL: pgtest.Server(t).URL,
		Base:      copyProject(t, nil),
		Head:      copyProject(t, edits),
		Rows:      rows,
		NoMatrix:  !matrix,
		// dbtool migrate runs with a lock_timeout: P009 stays quiet
		LockTimeout: true,
	})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return res
}

func findings(res *plan.Result, rule string) []plan.Finding {
	var out []plan.Finding
	for _, f := range res.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func text(t testing.TB, res *plan.Result) string {
	var b bytes.Buffer
	if err := plan.Write(&b, res, "text"); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const newMigration = "migrations/20261201120000_change.up.sql"

func TestIndexOnExistingTable(t *testing.T) {
	t.Parallel()
	res := runPlan(t, map[string]string{newMigration: "create index vehicles_plate_idx on public.vehicles (plate);\n"}, 200, false)
	fs := findings(res, "index_not_concurrently")
	if len(fs) != 1 || fs[0].Level != plan.LevelError || fs[0].Object != "public.vehicles" || fs[0].Line != 1 {
		t.Fatalf("want one error index_not_concurrently on public.vehicles line 1, got %+v\n%s", fs, text(t, res))
	}
	st := res.Files[0].Statements[0]
	var lock *plan.Lock
	for i, l := range st.Locks {
		if l.Relation == "public.vehicles" {
			lock = &st.Locks[i]
		}
	}
	if lock == nil || lock.Mode != "ShareLock" || !lock.Existing || lock.Rows != 200 || !strings.Contains(lock.Estimate, "per 1,000,000 rows") {
		t.Fatalf("want a ShareLock on the existing public.vehicles (200 rows) with an estimate, got %+v", st.Locks)
	}
	if !res.Failed() {
		t.Fatal("an error-level finding must fail the plan")
	}

	// The fix: CONCURRENTLY in a file of its own.
	fixed := runPlan(t, map[string]string{newMigration: "-- dbtool:no-transaction\ncreate index concurrently vehicles_plate_idx on public.vehicles (plate);\n"}, 200, false)
	if fs := findings(fixed, "index_not_concurrently"); len(fs) != 0 || fixed.Failed() {
		t.Fatalf("CONCURRENTLY: want no finding, got %+v\n%s", fixed.Findings, text(t, fixed))
	}
}

func TestNotNullColumn(t *testing.T) {
	t.Parallel()
	res := runPlan(t, map[string]string{newMigration: "alter table public.vehicles add column color text not null;\n"}, 50, false)
	if fs := findings(res, "add_column_not_null_without_default"); len(fs) != 1 || fs[0].Object != "public.vehicles.color" {
		t.Fatalf("want add_column_not_null_without_default on public.vehicles.color, got %+v", res.Findings)
	}
	if fs := findings(res, "statement_fails"); len(fs) != 1 || !strings.Contains(fs[0].Detail, "23502") {
		t.Fatalf("want the statement to fail on a table with rows (23502), got %+v", res.Findings)
	}

	// A volatile default rewrites the table.
	rw := runPlan(t, map[string]string{newMigration: "alter table public.vehicles add column token uuid not null default gen_random_uuid();\n"}, 50, false)
	fs := findings(rw, "add_column_rewrites_table")
	if len(fs) != 1 || len(rw.Files[0].Statements[0].Rewrites) != 1 || rw.Files[0].Statements[0].Rewrites[0] != "public.vehicles" {
		t.Fatalf("want a rewrite of public.vehicles, got %+v\n%s", rw.Findings, text(t, rw))
	}
	if !strings.Contains(fs[0].Evidence, "AccessExclusiveLock on public.vehicles") {
		t.Fatalf("evidence must name the lock: %q", fs[0].Evidence)
	}

	// The fix: a constant default is catalog-only (no rewrite, no finding but the brief lock).
	ok := runPlan(t, map[string]string{newMigration: "alter table public.vehicles add column color text not null default 'unknown';\n"}, 50, false)
	if ok.Failed() || len(ok.Files[0].Statements[0].Rewrites) != 0 {
		t.Fatalf("constant default: want no error and no rewrite, got %+v\n%s", ok.Findings, text(t, ok))
	}
}

func TestTypeChangeAndSetNotNull(t *testing.T) {
	t.Parallel()
	res := runPlan(t, map[string]string{newMigration: "alter table public.vehicles alter column created_at type date;\n" +
		"alter table public.vehicles alter column model set not null;\n" +
		"alter table public.vehicles add constraint vehicles_make_len_check check (length(make) < 100);\n"}, 50, false)
	if fs := findings(res, "column_type_change_rewrites"); len(fs) != 1 || fs[0].Line != 1 {
		t.Fatalf("want column_type_change_rewrites at line 1, got %+v\n%s", res.Findings, text(t, res))
	}
	if fs := findings(res, "set_not_null_without_check"); len(fs) != 1 || fs[0].Object != "public.vehicles.model" {
		t.Fatalf("want set_not_null_without_check, got %+v", res.Findings)
	}
	if fs := findings(res, "constraint_without_not_valid"); len(fs) != 1 || fs[0].Line != 3 {
		t.Fatalf("want constraint_without_not_valid at line 3, got %+v", res.Findings)
	}
	// The fix: NOT VALID, then VALIDATE; a validated CHECK before SET NOT NULL.
	fixed := runPlan(t, map[string]string{newMigration: "alter table public.vehicles add constraint vehicles_make_len_check check (length(make) < 100) not valid;\n" +
		"alter table public.vehicles validate constraint vehicles_make_len_check;\n" +
		"alter table public.vehicles add constraint vehicles_model_nn check (model is not null) not valid;\n" +
		"alter table public.vehicles validate constraint vehicles_model_nn;\n" +
		"alter table public.vehicles alter column model set not null;\n"}, 50, false)
	for _, r := range []string{"constraint_without_not_valid", "set_not_null_without_check", "column_type_change_rewrites"} {
		if fs := findings(fixed, r); len(fs) != 0 {
			t.Errorf("fixed: unexpected %s: %+v", r, fs)
		}
	}
}

func TestRenameColumnInUse(t *testing.T) {
	t.Parallel()
	res := runPlan(t, map[string]string{newMigration: "alter table public.vehicles rename column plate to plate_number;\n"}, 10, false)
	fs := findings(res, "drop_or_rename_in_use")
	if len(fs) != 1 || fs[0].Object != "public.vehicles.plate" || !strings.Contains(fs[0].Evidence, "the API") {
		t.Fatalf("want drop_or_rename_in_use on public.vehicles.plate used by the API, got %+v\n%s", res.Findings, text(t, res))
	}
	var renamed bool
	for _, c := range res.API {
		if c.Change == "renamed" && c.Kind == "column" && c.Object == "public.vehicles.plate" && c.Detail == "now plate_number" {
			renamed = true
		}
	}
	if !renamed {
		t.Fatalf("API diff: want the column rename, got %+v", res.API)
	}
}

func TestRenamedProcedureArgument(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "procedures/notification_mark.sql"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "delivered boolean, error text default null)", "delivered boolean, error_text text default null)", 1)
	src = strings.ReplaceAll(src, "notification_mark.error", "notification_mark.error_text")
	src = "drop function if exists public.notification_mark(uuid, boolean, text);\n" + src
	if src == string(b) {
		t.Fatal("fixture did not change the procedure")
	}
	res := runPlan(t, map[string]string{"procedures/notification_mark.sql": src}, 10, false)
	fs := findings(res, "api_breaking_change")
	if len(fs) != 1 || !strings.Contains(fs[0].Detail, "(notification_id, delivered, error) -> (notification_id, delivered, error_text)") {
		t.Fatalf("want an API break for the renamed argument, got %+v\n%s", res.Findings, text(t, res))
	}
}

func TestLoosenedPolicyAndNewDefiner(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "policies/vehicles.sql"))
	if err != nil {
		t.Fatal(err)
	}
	loose := strings.Replace(string(b), "for select to authenticated\n  using (user_id = (select auth.uid()));",
		"for select to authenticated\n  using (true);", 1)
	if loose == string(b) {
		t.Fatal("fixture did not loosen the policy")
	}
	definer := `create function public.user_id_by_email(email text) returns uuid
language sql stable security definer set search_path = ''
as $$ select id from auth.users u where u.email = user_id_by_email.email $$;
grant execute on function public.user_id_by_email(text) to authenticated;
`
	res := runPlan(t, map[string]string{"policies/vehicles.sql": loose, newMigration: definer}, 10, true)
	var opened bool
	for _, f := range findings(res, "access_opened") {
		if f.Level == plan.LevelError && f.Object == "public.vehicles" && strings.Contains(f.Detail, "+ stranger select public.vehicles") {
			opened = true
		}
	}
	if !opened {
		t.Fatalf("want an error: stranger now selects public.vehicles, got %+v\n%s", res.Findings, text(t, res))
	}
	if fs := findings(res, "new_security_definer_exposed"); len(fs) != 1 || fs[0].Object != "public.user_id_by_email(email text)" {
		t.Fatalf("want new_security_definer_exposed for public.user_id_by_email, got %+v", res.Findings)
	}
	var granted bool
	for _, g := range res.Grants {
		if g.Sign == "+" && g.Grantee == "authenticated" && g.Privilege == "EXECUTE" && strings.HasPrefix(g.Object, "user_id_by_email(") {
			granted = true
		}
	}
	if !granted {
		t.Fatalf("want the new EXECUTE grant in the grant diff, got %+v", res.Grants)
	}

	// Formats: JSON parses, markdown and SARIF carry the findings.
	for _, f := range []string{"json", "markdown", "sarif"} {
		var out bytes.Buffer
		if err := plan.Write(&out, res, f); err != nil {
			t.Fatal(err)
		}
		if f != "markdown" && !json.Valid(out.Bytes()) {
			t.Fatalf("%s output is not JSON:\n%s", f, out.String())
		}
		if !strings.Contains(out.String(), "access_opened") && !strings.Contains(out.String(), "P010") {
			t.Fatalf("%s output lacks the finding:\n%s", f, out.String())
		}
	}
}

func TestNothingPending(t *testing.T) {
	t.Parallel()
	_, err := plan.Run(context.Background(), plan.Options{ServerURL: pgtest.Server(t).URL, Base: copyProject(t, nil), Head: copyProject(t, nil)})
	if err != plan.ErrNothingPending {
		t.Fatalf("want ErrNothingPending, got %v", err)
	}
}

func TestNoLockTimeout(t *testing.T) {
	t.Parallel()
	res, err := plan.Run(context.Background(), plan.Options{
		ServerURL: pgtest.Server(t).URL, Base: copyProject(t, nil), NoMatrix: true, Rows: 10,
		Head: copyProject(t, map[string]string{newMigration: "alter table public.vehicles add column note text;\n"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if fs := findings(res, "no_lock_timeout"); len(fs) != 1 {
		t.Fatalf("want no_lock_timeout, got %+v", res.Findings)
	}
	res, err = plan.Run(context.Background(), plan.Options{
		ServerURL: pgtest.Server(t).URL, Base: copyProject(t, nil), NoMatrix: true, Rows: 10,
		Head: copyProject(t, map[string]string{newMigration: "set lock_timeout = '5s';\nalter table public.vehicles add column note text;\n"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if fs := findings(res, "no_lock_timeout"); len(fs) != 0 {
		t.Fatalf("with SET lock_timeout: want no finding, got %+v", fs)
	}
}
