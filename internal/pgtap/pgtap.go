// Package pgtap runs a project's pgTAP test files the way `supabase test db`
// and pg_prove do (psql, one file per database), each file on its own
// clone of the project's template, several at once, and parses their TAP.
package pgtap

import (
	"bufio"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// helpersSQL is dbtool's own implementation of the basejump Supabase test
// helpers (tests.create_supabase_user, authenticate_as, ...), installed
// when a file creates that extension and the server does not have it.
//
//go:embed helpers.sql
var helpersSQL string

// Test is one TAP line.
type Test struct {
	Number      int    `json:"number"`
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	Directive   string `json:"directive,omitempty"` // SKIP or TODO, with its reason
	Diagnostics string `json:"diagnostics,omitempty"`
}

// File is the result of one test file.
type File struct {
	Path    string `json:"path"`
	Planned int    `json:"planned"` // -1: no plan
	Tests   []Test `json:"tests"`
	Error   string `json:"error,omitempty"` // psql or SQL error that stopped the file
	Output  string `json:"-"`
	// Isolation: "transaction" (its own BEGIN ... ROLLBACK, on a clone its
	// worker reuses) or "commits: <why>" (its own clone, which the files
	// after it start from).
	Isolation string        `json:"isolation,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
}

// Failed reports whether the file failed as pg_prove judges it: a not-ok
// test (not TODO), an error, no plan in its output, or a count different
// from its plan.
func (f File) Failed() bool {
	if f.Problem() != "" {
		return true
	}
	for _, t := range f.Tests {
		if !t.OK && !strings.HasPrefix(strings.ToUpper(t.Directive), "TODO") {
			return true
		}
	}
	return false
}

// Problem is what is wrong with the file as a whole, "" if nothing: a
// count different from its plan, or no plan at all (a file that prints
// none, or calls no_plan() and never finish(), fails under pg_prove: "No
// plan found in TAP output"), and the error that stopped it.
func (f File) Problem() string {
	var parts []string
	switch {
	case f.Planned < 0:
		parts = append(parts, "no plan found in its output (plan(n), or no_plan() with finish())")
	case f.Planned != len(f.Tests):
		parts = append(parts, fmt.Sprintf("planned %d tests, ran %d", f.Planned, len(f.Tests)))
	}
	if f.Error != "" {
		parts = append(parts, f.Error)
	}
	return strings.Join(parts, "\n")
}

// Counts: passed, failed, skipped tests.
func (f File) Counts() (pass, fail, skip int) {
	for _, t := range f.Tests {
		d := strings.ToUpper(t.Directive)
		switch {
		case strings.HasPrefix(d, "SKIP"):
			skip++
		case t.OK || strings.HasPrefix(d, "TODO"):
			pass++
		default:
			fail++
		}
	}
	return
}

var marker = regexp.MustCompile(`(?i)\b(plan\s*\(|no_plan\s*\(|finish\s*\()`)

// Discover lists the pgTAP files of a project, sorted as pg_prove sorts
// them: under supabase/tests every *.sql and *.pg file (what `supabase
// test db` gives pg_prove, which runs them all), under tests/ the *.sql
// files that plan or finish tests (that folder holds other things too).
func Discover(dir string) ([]string, error) {
	var out []string
	for _, root := range []string{filepath.Join("supabase", "tests"), "tests"} {
		base := filepath.Join(dir, root)
		err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == base {
					return filepath.SkipDir
				}
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(p, ".sql") || strings.HasSuffix(p, ".pg")) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if root != "tests" || marker.Match(b) {
				rel, _ := filepath.Rel(dir, p)
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

var (
	planLine = regexp.MustCompile(`^1\.\.(\d+)`)
	testLine = regexp.MustCompile(`^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$`)
)

// parse reads TAP: the plan, ok / not ok lines with their SKIP/TODO
// directives, and the # diagnostics that follow a test.
func parse(f *File, tap string) {
	sc := bufio.NewScanner(strings.NewReader(tap))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if m := planLine.FindStringSubmatch(line); m != nil {
			f.Planned, _ = strconv.Atoi(m[1])
			continue
		}
		if m := testLine.FindStringSubmatch(line); m != nil {
			t := Test{OK: m[1] == "ok", Description: m[3]}
			t.Number, _ = strconv.Atoi(m[2])
			if t.Number == 0 {
				t.Number = len(f.Tests) + 1
			}
			if i := strings.Index(t.Description, " # "); i >= 0 {
				t.Directive = strings.TrimSpace(t.Description[i+3:])
				t.Description = strings.TrimSpace(t.Description[:i])
			}
			f.Tests = append(f.Tests, t)
			continue
		}
		if strings.HasPrefix(line, "#") && len(f.Tests) > 0 {
			last := &f.Tests[len(f.Tests)-1]
			if last.Diagnostics != "" {
				last.Diagnostics += "\n"
			}
			last.Diagnostics += strings.TrimSpace(strings.TrimPrefix(line, "#"))
		}
	}
}

// Template returns (building it once per server) a copy of the project's
// template database base with pgTAP installed, so that each test file's
// clone does not pay for creating the extension. It is rebuilt with base.
func Template(ctx context.Context, serverURL, base string) (string, error) {
	name := base + "_pgtap"
	if len(name) > 63 {
		name = name[:63]
	}
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "select pg_advisory_lock(hashtext($1))", name); err != nil {
		return "", err
	}
	defer admin.Exec(context.WithoutCancel(ctx), "select pg_advisory_unlock(hashtext($1))", name) //nolint:errcheck
	var complete bool
	err = admin.QueryRow(ctx, `select datistemplate from pg_database where datname = $1`, name).Scan(&complete)
	switch {
	case err == nil && complete:
		return name, nil
	case err == nil:
		if _, err := admin.Exec(ctx, "drop database "+pgx.Identifier{name}.Sanitize()+" with (force)"); err != nil {
			return "", err
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return "", err
	}
	if _, err := admin.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize()+" template "+pgx.Identifier{base}.Sanitize()); err != nil {
		return "", err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return "", err
	}
	err = installPgTAP(ctx, conn)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "alter database "+pgx.Identifier{name}.Sanitize()+" is_template true allow_connections false"); err != nil {
		return "", err
	}
	return name, nil
}

func installPgTAP(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, `create extension if not exists pgtap with schema extensions`); err != nil {
		if _, err2 := conn.Exec(ctx, `create extension if not exists pgtap`); err2 != nil {
			return fmt.Errorf("pgTAP is not installed on the server (Debian: apt-get install postgresql-15-pgtap): %w", err2)
		}
	}
	// Tests switch to anon or authenticated and keep calling pgTAP.
	_, err := conn.Exec(ctx, `do $$ declare s text; begin
		select n.nspname into s from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pgtap';
		execute format('grant usage on schema %I to public; grant execute on all functions in schema %I to public', s, s);
		end $$`)
	return err
}

// createClone copies from into a new database with CREATE DATABASE's strategy
// (FILE_COPY by default: as fast as WAL_LOG for a small test database,
// see BenchmarkPgTAPOwnClones) and returns its name, URL and how to drop it.
func createClone(ctx context.Context, serverURL, from, strategy string) (string, string, func(), error) {
	if strategy == "" {
		strategy = "file_copy"
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "dbtool_tap_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", "", nil, err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "create database "+name+" template "+pgx.Identifier{from}.Sanitize()+" strategy "+strategy); err != nil {
		return "", "", nil, err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", "", nil, err
	}
	u.Path = "/" + name
	return name, u.String(), func() {
		c, err := pgx.Connect(context.WithoutCancel(ctx), serverURL)
		if err != nil {
			return
		}
		defer c.Close(context.WithoutCancel(ctx))
		_, _ = c.Exec(context.WithoutCancel(ctx), "drop database if exists "+name+" with (force)")
	}, nil
}
