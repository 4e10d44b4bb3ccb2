// Package pgbench runs PostgreSQL's pgbench built-in TPC-B-like workload on
// a server, the yardstick dbtool's throughput benchmarks are reported
// against (a ratio measured in the same run on the same server is
// comparable across machines; absolute numbers are not).
package pgbench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Find locates the pgbench binary (PATH, then /usr/lib/postgresql/*/bin).
func Find() (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(m) > 0 {
		return m[len(m)-1], nil
	}
	return "", errors.New("pgbench not found (Debian: apt-get install postgresql-15)")
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// TPCB initialises pgbench's tables (scale 1) in the database at dbURL and
// runs the built-in tpcb-like script with clients connections for d,
// returning transactions per second.
func TPCB(ctx context.Context, dbURL string, clients int, d time.Duration) (float64, error) {
	bin, err := Find()
	if err != nil {
		return 0, err
	}
	env, err := libpqEnv(dbURL)
	if err != nil {
		return 0, err
	}
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("pgbench %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	if _, err := run("-i", "-s", "1", "-q"); err != nil {
		return 0, err
	}
	jobs := clients
	if jobs > 2 {
		jobs = 2
	}
	out, err := run("-b", "tpcb-like", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(jobs), "-T", strconv.Itoa(int(d.Seconds())), "-n")
	if err != nil {
		return 0, err
	}
	m := tpsLine.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench: no tps line in output:\n%s", out)
	}
	return strconv.ParseFloat(m[1], 64)
}

// libpqEnv turns a postgres:// URL into PG* variables for pgbench.
func libpqEnv(dbURL string) ([]string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, err
	}
	env := []string{"PGHOST=" + u.Hostname(), "PGPORT=" + u.Port(), "PGDATABASE=" + strings.TrimPrefix(u.Path, "/"), "PGUSER=" + u.User.Username()}
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
	}
	if s := u.Query().Get("sslmode"); s != "" {
		env = append(env, "PGSSLMODE="+s)
	}
	return env, nil
}
