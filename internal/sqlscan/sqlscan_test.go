package sqlscan

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	src := "-- header\ncreate table t (a text default 'x;y');\n\n" +
		"create function f() returns int language plpgsql as $body$\nbegin\n  return 1; -- ;\nend\n$body$;\n" +
		"/* a; /* nested; */ */ select \"semi;colon\" from t;\n" +
		"select $1, a$b from t -- trailing ;\n"
	got := Split(src)
	var lines []int
	var first [][]string
	for _, s := range got {
		lines = append(lines, s.Line)
		first = append(first, FirstWords(s.SQL, 2))
	}
	if want := []int{2, 4, 9, 10}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines = %v, want %v", lines, want)
	}
	want := [][]string{{"create", "table"}, {"create", "function"}, {"select"}, {"select"}}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("first words = %v, want %v", first, want)
	}
}

func TestSplitOnlyComments(t *testing.T) {
	if got := Split("-- nothing\n/* here */\n;\n"); len(got) != 0 {
		t.Errorf("got %d statements from comments only: %+v", len(got), got)
	}
}

func TestLineCol(t *testing.T) {
	src := "select 1;\nselect é from x;\n"
	line, col, ok := LineCol(src, 18) // 'f' of from: characters, not bytes
	if !ok || line != 2 || col != 8 {
		t.Errorf("LineCol = %d:%d %v, want 2:8", line, col, ok)
	}
	if _, _, ok := LineCol(src, 0); ok {
		t.Error("position 0 must not resolve")
	}
}
