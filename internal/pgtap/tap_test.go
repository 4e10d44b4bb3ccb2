package pgtap

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A file fails as pg_prove fails it: a not-ok test, a count other than its
// plan, no plan at all, an error; a TODO failure does not count.
func TestFailedAsPgProve(t *testing.T) {
	cases := []struct {
		name, tap, err string
		failed         bool
		problem        string
	}{
		{"passes", "1..2\nok 1 - a\nok 2 - b\n", "", false, ""},
		{"no_plan with finish", "ok 1 - a\n1..1\n", "", false, ""},
		{"not ok", "1..1\nnot ok 1 - a\n# Failed test 1\n", "", true, ""},
		{"todo", "1..1\nnot ok 1 - a # TODO later\n", "", false, ""},
		{"fewer than planned", "1..3\nok 1 - a\n", "", true, "planned 3 tests, ran 1"},
		{"no plan", "ok 1 - a\n", "", true, "no plan found"},
		{"no output", "", "", true, "no plan found"},
		{"stopped", "1..2\nok 1 - a\n", "psql:x.sql:3: ERROR:  boom", true, "planned 2 tests, ran 1\npsql:x.sql:3: ERROR:  boom"},
	}
	for _, c := range cases {
		f := File{Planned: -1, Error: c.err}
		parse(&f, c.tap)
		if f.Failed() != c.failed {
			t.Errorf("%s: failed = %v, want %v", c.name, f.Failed(), c.failed)
		}
		if got := f.Problem(); (c.problem == "") != (got == "") || !strings.Contains(got, c.problem) {
			t.Errorf("%s: problem %q, want %q", c.name, got, c.problem)
		}
	}
}

// supabase/tests: every .sql and .pg file, as pg_prove -r --ext .sql --ext
// .pg; tests/: only the SQL files that plan or finish tests.
func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	for rel, s := range map[string]string{
		"supabase/tests/database/01-a.sql":   "begin; select plan(1); select pass('a'); rollback;",
		"supabase/tests/database/00-lib.sql": "create function f() returns int language sql as $$ select 1 $$;",
		"supabase/tests/02-b.pg":             "select plan(1); select pass('b');",
		"supabase/tests/README.md":           "docs",
		"tests/fixtures/rows.sql":            "insert into t values (1);",
		"tests/c.sql":                        "select no_plan(); select pass('c'); select * from finish();",
	} {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"supabase/tests/02-b.pg", "supabase/tests/database/00-lib.sql", "supabase/tests/database/01-a.sql", "tests/c.sql"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Discover = %v, want %v", got, want)
	}
}
