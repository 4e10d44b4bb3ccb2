package cli

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var (
	reDuration = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s|m)\b`)
	reTime     = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`)
	reHex      = regexp.MustCompile(`\b[0-9a-f]{12}\b`)
	reCells    = regexp.MustCompile(`\(\d+ cells/s\)`)
)

// normalize removes what changes from run to run: the project folder,
// durations, timestamps, checksums, rates.
func normalize(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "<dir>")
	s = reTime.ReplaceAllString(s, "<time>")
	s = reCells.ReplaceAllString(s, "(<rate>)")
	s = reDuration.ReplaceAllString(s, "<dur>")
	s = reHex.ReplaceAllString(s, "<sum>")
	return s
}

// golden compares got with testdata/name.golden (go test -run TestGolden
// -update rewrites them).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run TestGolden -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./internal/cli -run TestGolden -update after review):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// The human output of each command, on one small project.
func TestGoldenOutputs(t *testing.T) {
	url := pgtest.EmptyDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	common := []string{"--dir", dir, "--database-url", url}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"migrate_up", []string{"migrate", "up"}},
		{"migrate_up_again", []string{"migrate", "up"}},
		{"migrate_status", []string{"migrate", "status"}},
		{"migrate_verify", []string{"migrate", "verify"}},
		{"policy_coverage", []string{"policy", "coverage"}},
		{"policy_matrix", []string{"policy", "matrix"}},
		{"lint", []string{"lint"}},
	} {
		code, out, errOut := run(t, append(c.args, common...)...)
		golden(t, c.name, normalize(out+"-- stderr --\n"+errOut+"-- exit --\n"+string(rune('0'+code))+"\n", dir))
	}
}
