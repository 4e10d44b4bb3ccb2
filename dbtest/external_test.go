package dbtest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// exampleSchema and exampleTest are the README's "Use it in your project"
// example, verbatim: a Supabase project with a notes table and a role test.
const exampleSchema = `create table public.notes (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  body text not null
);
alter table public.notes enable row level security;
grant select, insert on public.notes to authenticated;
create policy notes_own on public.notes for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
`

const exampleTest = `package app_test

import (
	"context"
	"testing"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestNotesArePrivate(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t) // a clone of this project's migrated template
	alice := db.Persona(t, "alice")
	bob := db.Persona(t, "bob")

	err := db.AsPersona(ctx, alice, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "insert into public.notes (body) values ('dear diary')")
		return err
	})
	if err != nil {
		t.Fatalf("alice writes a note: %v", err)
	}
	var seen int
	err = db.AsPersona(ctx, bob, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "select count(*) from public.notes").Scan(&seen)
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 0 {
		t.Fatalf("bob sees %d of alice's notes, want 0", seen)
	}
}
`

// Another module imports the public package, as a user's project would: a
// temporary module outside the repository (a replace to this checkout), the
// README's schema and test, go test there. It passes; the same test with a
// wrong expectation fails with a readable message.
func TestUsableFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs another module")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := "1.26"
	for _, l := range strings.Split(string(goMod), "\n") {
		if strings.HasPrefix(l, "go ") {
			goVersion = strings.TrimSpace(strings.TrimPrefix(l, "go "))
		}
	}
	write("go.mod", "module example.com/app\n\ngo "+goVersion+"\n\nrequire github.com/dbtool-dev/dbtool v0.0.0\n\nreplace github.com/dbtool-dev/dbtool => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(sum))
	write("supabase/migrations/20260101000000_notes.sql", exampleSchema)
	write("notes_test.go", exampleTest)

	goTest := func() (string, error) {
		tidy := exec.Command(goBin, "mod", "tidy")
		tidy.Dir = dir
		tidy.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := tidy.CombinedOutput(); err != nil {
			t.Fatalf("go mod tidy in the user's module: %v\n%s", err, out)
		}
		cmd := exec.Command(goBin, "test", "-count=1", "./...")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "DBTOOL_PROJECT_DIR=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := goTest(); err != nil {
		t.Fatalf("the README example fails in another module: %v\n%s", err, out)
	}

	// A wrong expectation: the test fails, and says what it expected.
	write("notes_test.go", strings.Replace(exampleTest, "if seen != 0 {", "if seen != 1 {", 1))
	out, err := goTest()
	if err == nil {
		t.Fatalf("a wrong expectation passed:\n%s", out)
	}
	if !strings.Contains(out, "bob sees 0 of alice's notes, want 0") || !strings.Contains(out, "--- FAIL: TestNotesArePrivate") {
		t.Fatalf("the failure is not readable:\n%s", out)
	}
}
