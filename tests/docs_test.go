package tests

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
)

// docs/errors.md documents every rule name a routine raises and every
// constraint of the public schema, so clients can switch on them.
func TestErrorsDocumented(t *testing.T) {
	t.Parallel()
	root, err := dbtest.ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	doc := errorsDoc(t)
	documented := func(name string) bool { return strings.Contains(string(doc), "`"+name+"`") }

	raised := regexp.MustCompile(`constraint\s*=\s*'(\w+)'`)
	files, _ := filepath.Glob(filepath.Join(root, "procedures", "*.sql"))
	more, _ := filepath.Glob(filepath.Join(root, "procedures", "*", "*.sql"))
	rules := map[string]string{}
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range raised.FindAllStringSubmatch(string(b), -1) {
			rules[m[1]] = filepath.Base(f)
		}
	}
	if len(rules) < 50 {
		t.Fatalf("found only %d raised rule names: the scan is broken", len(rules))
	}
	for rule, file := range rules {
		if !documented(rule) {
			t.Errorf("rule %s (raised in %s) is not in docs/errors.md", rule, file)
		}
	}

	db := dbtest.New(t)
	ctx := context.Background()
	var names []string
	err = db.AsOwner(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select conname from pg_constraint
			where connamespace = 'public'::regnamespace and contype in ('c', 'u', 'x', 'f') order by 1`)
		if err != nil {
			return err
		}
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !documented(n) {
			t.Errorf("constraint %s is not in docs/errors.md", n)
		}
	}
}

// errorsDoc is docs/errors.md.
func errorsDoc(t testing.TB) []byte {
	t.Helper()
	root, err := dbtest.ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
