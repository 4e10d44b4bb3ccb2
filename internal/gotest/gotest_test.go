package gotest

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

const events = `{"Action":"run","Package":"x/tests","Test":"TestA"}
{"Action":"output","Package":"x/tests","Test":"TestA","Output":"ok\n"}
{"Action":"pass","Package":"x/tests","Test":"TestA","Elapsed":0.1}
{"Action":"run","Package":"x/tests","Test":"TestB"}
{"Action":"output","Package":"x/tests","Test":"TestB","Output":"b_test.go:9: boom\n"}
{"Action":"fail","Package":"x/tests","Test":"TestB","Elapsed":0.2}
{"Action":"skip","Package":"x/tests","Test":"TestC","Elapsed":0}
{"Action":"fail","Package":"x/tests","Elapsed":0.3}
`

func TestParseAndJUnit(t *testing.T) {
	var echo bytes.Buffer
	rep, err := Parse(strings.NewReader(events), &echo)
	if err != nil {
		t.Fatal(err)
	}
	pass, fail, skip := rep.Counts()
	if pass != 1 || fail != 1 || skip != 1 || !rep.Failed() {
		t.Fatalf("counts %d/%d/%d failed=%v", pass, fail, skip, rep.Failed())
	}
	if !strings.Contains(echo.String(), "boom") {
		t.Error("output not echoed")
	}
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf, []Extra{{Suite: "dbtool", Name: "access matrix", Failure: "1 cell differs"}}); err != nil {
		t.Fatal(err)
	}
	var parsed junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &parsed); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, buf.String())
	}
	total, failures := 0, 0
	for _, s := range parsed.Suites {
		total += s.Tests
		failures += s.Failures
	}
	if total != 4 || failures != 2 {
		t.Errorf("junit: %d tests, %d failures; want 4 and 2\n%s", total, failures, buf.String())
	}
}

// Without -v only a line per package and the output of failed tests.
func TestQuietEcho(t *testing.T) {
	events := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"=== RUN   TestB\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: boom\n"}
{"Action":"fail","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}
{"Action":"fail","Package":"p"}
`
	var echo strings.Builder
	if _, err := parse(strings.NewReader(events), &echo, false); err != nil {
		t.Fatal(err)
	}
	got := echo.String()
	if strings.Contains(got, "TestA") || !strings.Contains(got, "b_test.go:9: boom") || !strings.Contains(got, "FAIL\tp\t0.01s") {
		t.Fatalf("quiet echo:\n%s", got)
	}
}
