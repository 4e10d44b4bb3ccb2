package lint

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestCatalogue(t *testing.T) {
	rs := Rules()
	if len(rs) < 40 {
		t.Fatalf("%d rules", len(rs))
	}
	for i, r := range rs {
		if i > 0 && r.ID <= rs[i-1].ID {
			t.Errorf("rules out of order: %s after %s", r.ID, rs[i-1].ID)
		}
		if !strings.Contains(r.Doc, "# "+r.ID+" "+r.Name) || !strings.Contains(r.Doc, "@dbtool-ignore "+r.Name+":") {
			t.Errorf("%s: documentation does not name the rule or how to ignore it", r.Name)
		}
		// A rule that takes the roles must take the schemas too: the
		// parameters are passed positionally.
		if strings.Contains(r.SQL, "$2") && !strings.Contains(r.SQL, "$1") {
			t.Errorf("%s uses $2 without $1", r.Name)
		}
	}
	if got := Rules()[0].Name; got != "rls_disabled_in_public" {
		t.Errorf("first rule %s", got)
	}
}

func TestMalformedRuleFiles(t *testing.T) {
	header := "-- id: 0001\n-- name: a_rule\n-- level: %s\n-- category: security\n-- title: T\n-- description: D\n-- remediation: R\nselect 1\n"
	cases := map[string]fstest.MapFS{
		"bad level": {"rules/0001_a_rule.sql": {Data: []byte(strings.Replace(header, "%s", "fatal", 1))}, "rules/0001_a_rule.md": {}},
		"no doc":    {"rules/0001_a_rule.sql": {Data: []byte(strings.Replace(header, "%s", "warn", 1))}},
		"bad name":  {"rules/1_a_rule.sql": {Data: []byte(strings.Replace(header, "%s", "warn", 1))}},
		"mismatch":  {"rules/0002_a_rule.sql": {Data: []byte(strings.Replace(header, "%s", "warn", 1))}, "rules/0002_a_rule.md": {}},
		"reused": {
			"rules/0001_a_rule.sql": {Data: []byte(strings.Replace(header, "%s", "warn", 1))}, "rules/0001_a_rule.md": {},
			"rules/0001_b_rule.sql": {Data: []byte(strings.Replace(strings.Replace(header, "%s", "warn", 1), "a_rule", "b_rule", 1))},
			"rules/0001_b_rule.md":  {},
		},
	}
	for name, fsys := range cases {
		if _, err := loadRules(fsys); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	ok := fstest.MapFS{"rules/0001_a_rule.sql": {Data: []byte(strings.Replace(header, "%s", "warn", 1))}, "rules/0001_a_rule.md": {Data: []byte("doc")}}
	rs, err := loadRules(ok)
	if err != nil || len(rs) != 1 || rs[0].Level != Warn || rs[0].Doc != "doc" {
		t.Errorf("valid file: %v %+v", err, rs)
	}
}

func TestExceeds(t *testing.T) {
	fs := []Finding{{Level: Info}, {Level: Warn}}
	for level, want := range map[string]bool{Info: true, Warn: true, Error: false, "none": false, "": false} {
		if got := Exceeds(fs, level); got != want {
			t.Errorf("Exceeds(%q) = %v", level, got)
		}
	}
	if Exceeds(nil, Info) {
		t.Error("no findings exceed")
	}
}

func TestSelect(t *testing.T) {
	rs, err := Select([]string{"0019", "duplicate_index"})
	if err != nil || len(rs) != 2 || rs[0].Name != "policy_recursion" || rs[1].Name != "duplicate_index" {
		t.Errorf("%v %+v", err, rs)
	}
	if _, err := Select([]string{"no_such_rule"}); err == nil {
		t.Error("unknown rule accepted")
	}
}

func TestFindingJSON(t *testing.T) {
	b, _ := json.Marshal(IgnoredFinding{Finding: Finding{Rule: "r", ObjectType: "table"}, Reason: "why", Source: "file"})
	for _, k := range []string{`"rule":"r"`, `"object_type":"table"`, `"remediation":`, `"reason":"why"`, `"source":"file"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("%s lacks %s", b, k)
		}
	}
}

func TestParseInlineIgnores(t *testing.T) {
	got := parseInlineIgnores("Audit. @dbtool-ignore rls_disabled_in_public: written by triggers\nmore @dbtool-ignore duplicate_index @dbtool-ignore x:  ")
	want := []inlineIgnore{{"rls_disabled_in_public", "written by triggers"}, {"duplicate_index", ""}, {"x", ""}}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestLoadIgnores(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ig, err := LoadIgnores(write("ok.yaml", "ignores:\n  - rule: rls_disabled_in_public\n    object: public.audit_*\n    reason: written by triggers only\n"))
	if err != nil || len(ig) != 1 || ig[0].Object != "public.audit_*" {
		t.Fatalf("%v %+v", err, ig)
	}
	for name, body := range map[string]string{
		"noreason.yaml": "ignores:\n  - rule: rls_disabled_in_public\n    object: public.x\n",
		"unknown.yaml":  "ignores:\n  - rule: no_such_rule\n    object: public.x\n    reason: r\n",
		"noobject.yaml": "ignores:\n  - rule: rls_disabled_in_public\n    reason: r\n",
		"typo.yaml":     "ignores:\n  - rule: rls_disabled_in_public\n    object: public.x\n    reasn: r\n",
	} {
		if _, err := LoadIgnores(write(name, body)); err == nil {
			t.Errorf("%s loaded", name)
		}
	}
	if ig, err := LoadIgnores(write("empty.yaml", "")); err != nil || len(ig) != 0 {
		t.Errorf("empty file: %v %v", err, ig)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"public.audit_*", "public.audit_2020", true},
		{"public.audit_*", "public.audits", false},
		{"*", "anything(integer[])", true},
		{"public.fn(integer[])", "public.fn(integer[])", true},
		{"public.fn(integer[])", "public.fn(integer)", false},
		{"*.secret", "public.keys.secret", true},
	} {
		if got := glob(c.pattern).MatchString(c.s); got != c.want {
			t.Errorf("glob(%q) on %q = %v", c.pattern, c.s, got)
		}
	}
}

// Ignores: inline ones with a reason (on the object or on an object that
// contains it) and file ones (globs) move findings to Ignored; an inline
// ignore without a reason is not honoured and is itself an error.
func TestIgnores(t *testing.T) {
	t.Parallel()
	conn, _ := newDB(t)
	execSQL(t, conn, `
		create table public.audit_a (id int); create table public.audit_b (id int); create table public.jobs (id int);
		create table public.keys (id int primary key, secret text);
		alter table public.keys enable row level security;
		grant select on public.keys to authenticated;
		create policy keys_select on public.keys for select to authenticated using (true);
		comment on table public.jobs is 'Queue. @dbtool-ignore rls_disabled_no_api_grants';
		comment on table public.keys is 'Keys. @dbtool-ignore secret_column_readable: the owner reads their own secret once
			@dbtool-ignore 0027: the table is filtered by the view';
		create function public.f(a integer[]) returns int language sql security definer as 'select 1';
		comment on function public.f(integer[]) is '@dbtool-ignore security_definer_no_search_path: no name resolution in the body';
	`)
	res := lintRun(t, conn, Options{
		Rules:   []string{"rls_disabled_no_api_grants", "secret_column_readable", "always_true_select_policy", "security_definer_no_search_path", "ignore_without_reason"},
		Ignores: []Ignore{{Rule: "rls_disabled_no_api_grants", Object: "public.audit_*", Reason: "append-only, written by triggers"}},
	})
	ignored := map[string]IgnoredFinding{}
	for _, f := range res.Ignored {
		ignored[f.Rule+" "+f.Key()] = f
	}
	for key, source := range map[string]string{
		"rls_disabled_no_api_grants public.audit_a":           "file",
		"rls_disabled_no_api_grants public.audit_b":           "file",
		"secret_column_readable public.keys.secret":           "comment on public.keys",
		"always_true_select_policy public.keys.keys_select":   "comment on public.keys",
		"security_definer_no_search_path public.f(integer[])": "comment on public.f(integer[])",
	} {
		f, ok := ignored[key]
		if !ok {
			t.Errorf("%s not ignored; ignored: %+v", key, res.Ignored)
			continue
		}
		if f.Source != source || f.Reason == "" {
			t.Errorf("%s: source %q reason %q", key, f.Source, f.Reason)
		}
	}
	if len(find(res.Findings, "rls_disabled_no_api_grants", "public.jobs")) != 1 {
		t.Errorf("an ignore without a reason was honoured:%s", dump(res.Findings))
	}
	if len(find(res.Findings, "ignore_without_reason", "public.jobs")) != 1 {
		t.Errorf("ignore without reason not reported:%s", dump(res.Findings))
	}
	if len(res.Findings) != 2 {
		t.Errorf("findings:%s", dump(res.Findings))
	}
	// The same ignores can be turned off: without the file, audit_* count.
	res = lintRun(t, conn, Options{Rules: []string{"rls_disabled_no_api_grants"}})
	if len(res.Findings) != 3 {
		t.Errorf("without the ignore file:%s", dump(res.Findings))
	}
	if _, err := Run(context.Background(), conn, Options{Ignores: []Ignore{{Rule: "duplicate_index", Object: "*"}}}); err == nil {
		t.Error("an ignore without a reason was accepted")
	}
}

// The plpgsql_check rule creates the extension inside the lint
// transaction when the server has it and the database does not: the
// routine is checked, and nothing of the extension is left behind.
func TestRunWithoutPlpgsqlCheck(t *testing.T) {
	t.Parallel()
	conn, _ := newDB(t)
	execSQL(t, conn, `create function public.broken() returns int language plpgsql as $$ begin return (select nope from nowhere); end $$;`)
	var available bool
	if err := conn.QueryRow(context.Background(), `select exists (select 1 from pg_available_extensions where name = 'plpgsql_check')`).Scan(&available); err != nil {
		t.Fatal(err)
	}
	res := lintRun(t, conn, Options{Rules: []string{"plpgsql_check_error"}})
	if available && len(find(res.Findings, "plpgsql_check_error", "public.broken()")) != 1 {
		t.Errorf("the server has plpgsql_check: want broken() reported; got %s", dump(res.Findings))
	}
	if !available && len(res.Findings) != 0 {
		t.Errorf("no plpgsql_check on the server: want no finding; got %s", dump(res.Findings))
	}
	var left bool
	if err := conn.QueryRow(context.Background(), `select exists (select 1 from pg_extension where extname = 'plpgsql_check')
		or exists (select 1 from pg_namespace where nspname = 'dbtool_lint_plpgsql_check')`).Scan(&left); err != nil || left {
		t.Errorf("plpgsql_check left in the database after lint (%v)", err)
	}
	var path string
	if err := conn.QueryRow(context.Background(), "show search_path").Scan(&path); err != nil || path == "pg_catalog" {
		t.Errorf("search_path %q after Run (%v)", path, err)
	}
	// Inside a caller's transaction Run uses a savepoint.
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := Run(context.Background(), tx, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "select 1"); err != nil {
		t.Errorf("transaction unusable after Run: %v", err)
	}
}

// Odd identifiers (quotes, regex metacharacters, upper case, dots) do not
// break the rules' dynamic patterns.
func TestOddIdentifiers(t *testing.T) {
	t.Parallel()
	conn, _ := newDB(t)
	execSQL(t, conn, `
		create schema "My.Schema";
		create table public."We(ird) [t]+*" (id int primary key, "Owner" uuid, "api_key" text, "a.b" text);
		alter table public."We(ird) [t]+*" enable row level security;
		grant select, update on public."We(ird) [t]+*" to authenticated;
		create policy "p (1)" on public."We(ird) [t]+*" for select to authenticated
		  using (exists (select 1 from public."We(ird) [t]+*" w where w."Owner" = auth.uid()));
		create policy "p.2" on public."We(ird) [t]+*" for update to authenticated using ("Owner" = (select auth.uid()));
		create table "My.Schema"."x|y" (id int);
		create function "My.Schema"."f(x)"() returns setof int language sql stable as 'select id from "My.Schema"."x|y"';
		comment on table public."We(ird) [t]+*" is '@dbtool-ignore secret_column_readable: test';
	`)
	res := lintRun(t, conn, Options{Schemas: []string{"public", "My.Schema"}})
	if len(find(res.Findings, "policy_recursion", `public.We(ird) [t]+*.p (1)`)) != 1 {
		t.Errorf("recursion on an odd name not found:%s", dump(res.Findings))
	}
	if len(res.Ignored) != 1 || res.Ignored[0].Object != `public.We(ird) [t]+*.api_key` {
		t.Errorf("ignored: %+v", res.Ignored)
	}
}
