package pgtap

import (
	"strings"
	"testing"
)

// Which files may share a clone: decided on PostgreSQL's parse tree.
func TestSharedCloneReason(t *testing.T) {
	cases := []struct {
		name, src, want string // want: "" (shared) or a part of the reason
	}{
		{"begin rollback", "begin;\nselect plan(1);\nselect ok(true);\nselect * from finish();\nrollback;\n", ""},
		{"upper case, start transaction, abort", "START TRANSACTION;\nSELECT plan(1);\nSELECT pass('x');\nABORT;", ""},
		{"settings and psql printing first", "\\set ECHO none\n\\pset format unaligned\nset client_min_messages = warning;\nbegin;\nselect no_plan();\nrollback;\n", ""},
		{"savepoints inside", "begin;\nsavepoint a;\nselect 1;\nrollback to savepoint a;\nrelease a;\nrollback;\n", ""},
		{"comments and a dollar-quoted body", "-- a test\nbegin;\ncreate function f() returns int language sql as $$ select 1; $$;\n/* commit; */\nselect is(f(), 1, 'f');\nrollback;\n", ""},
		{"no transaction", "select plan(1);\nselect ok(true);\n", "outside a transaction it rolls back (line 1)"},
		{"only settings", "set search_path = public;\n", "no BEGIN"},
		{"commits", "begin;\nselect plan(1);\nselect ok(true);\ncommit;\n", "does not end with the ROLLBACK"},
		{"end", "begin;\nselect 1;\nend;\n", "does not end with the ROLLBACK"},
		{"commit in the middle", "begin;\ninsert into t values (1);\ncommit;\nbegin;\nselect 1;\nrollback;\n", "COMMIT inside the file (line 3)"},
		{"work before begin", "select tests.create_supabase_user('a');\nbegin;\nselect 1;\nrollback;\n", "outside a transaction it rolls back (line 1)"},
		{"work after rollback", "begin;\nselect 1;\nrollback;\nselect 2;\n", "does not end with the ROLLBACK"},
		{"prepared transaction", "begin;\nselect 1;\nprepare transaction 'x';\nrollback;\n", "PREPARE TRANSACTION inside"},
		{"commit first", "commit;\nbegin;\nrollback;", "COMMIT before any BEGIN"},
		{"include", "begin;\n\\i other.sql\nrollback;\n", `meta-command \i (line 2)`},
		{"gexec", "begin;\nselect 'select 1' \\gexec\nrollback;\n", "not parsed"},
		{"autocommit off", "\\set AUTOCOMMIT off\nselect 1;\nrollback;\n", "meta-command \\set"},
		{"psql variable", "begin;\nselect :'x';\nrollback;\n", "not parsed"},
	}
	for _, c := range cases {
		got := sharedCloneReason(c.src)
		if c.want == "" && got != "" {
			t.Errorf("%s: want a shared clone, got %q", c.name, got)
		}
		if c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: want a reason with %q, got %q", c.name, c.want, got)
		}
	}
}
