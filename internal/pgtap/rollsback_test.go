package pgtap

import "testing"

func TestRollsBack(t *testing.T) {
	for src, want := range map[string]bool{
		"begin; select plan(1); select ok(true); select * from finish(); rollback;":                    true,
		"BEGIN;\nselect plan(1);\nsavepoint a;\nrollback to savepoint a;\nselect ok(true);\nROLLBACK;": true,
		"start transaction; select 1; rollback;":                                                       true,
		"begin; select plan(1); select ok(true); commit;":                                              false, // commits
		"select plan(1); select ok(true);":                                                             false, // no transaction
		"begin; select 1; commit; begin; select 2; rollback;":                                          false, // commits in between
		"begin; select 1; rollback; insert into t values (1);":                                         false, // writes after it
		"begin;\n\\set x 1\nselect 1; rollback;":                                                       true,  // \set only sets a psql variable
		"begin;\n\\i other.sql\nselect 1; rollback;":                                                   false, // \i runs SQL the parser does not see
		"begin; select plan(1); select ok(true); rollback; begin; rollback;":                           false,
	} {
		if got := RollsBack(src); got != want {
			t.Errorf("RollsBack(%q) = %v, want %v", src, got, want)
		}
	}
}
