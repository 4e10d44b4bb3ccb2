package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// A Supabase project's pgTAP suite under dbtool test: files written for the
// basejump test helpers run unchanged (dbtool provides the helpers), each
// on its own clone; a failing file fails the run with its diagnostics, and
// the JUnit report holds every pgTAP test.
func TestDbtoolTestRunsPgTAP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"supabase/migrations/20240101000000_notes.sql": `create table public.notes (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references auth.users (id),
  body text not null);
alter table public.notes enable row level security;
grant select, insert on public.notes to authenticated;
create policy notes_own on public.notes for all to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());
`,
		"supabase/tests/database/01-notes.sql": `begin;
create extension "basejump-supabase_test_helpers";
select plan(4);
select tests.rls_enabled('public');
select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
select tests.authenticate_as('alice');
insert into public.notes (body) values ('dear diary');
select is((select count(*) from public.notes)::int, 1, 'alice sees her note');
select tests.authenticate_as('bob');
select is((select count(*) from public.notes)::int, 0, 'bob sees none');
select tests.clear_authentication();
select throws_ok($$ select * from public.notes $$, '42501', null, 'anon may not read notes');
select * from finish();
rollback;
`,
		"supabase/tests/database/02-wrong.sql": `begin;
select plan(2);
select ok(true, 'fine');
select is(1 + 1, 3, 'arithmetic is off');
select * from finish();
rollback;
`,
		"supabase/tests/README.md": "not a test\n",
	})
	junit := filepath.Join(t.TempDir(), "report.xml")
	code, out, errOut := run(t, "test", "--dir", dir, "--database-url", pgtest.Server(t).URL, "--no-matrix", "--junit", junit)
	if code != ExitProblems {
		t.Fatalf("want exit 1 (a failing pgTAP file), got %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"ok    " + filepath.Join(dir, "supabase/tests/database/01-notes.sql") + "  4 tests",
		"FAIL  " + filepath.Join(dir, "supabase/tests/database/02-wrong.sql") + "  1 passed, 1 failed",
		"not ok 2 - arithmetic is off", "# have: 2", "pgTAP: 2 file(s), 1 failed; 5 passed, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "anon may not read notes") || !strings.Contains(string(b), "arithmetic is off") {
		t.Errorf("junit lacks the pgTAP tests:\n%s", b)
	}
}
