// Package pgtap runs a project's pgTAP test files the way `supabase test db`
// and pg_prove do (psql, one file per database), each file on its own
// clone of the project's template, several at once, and parses their TAP.
package pgtap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
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
	Path     string        `json:"path"`
	Planned  int           `json:"planned"` // -1: no plan
	Tests    []Test        `json:"tests"`
	Error    string        `json:"error,omitempty"` // psql or SQL error that stopped the file
	Output   string        `json:"-"`
	Duration time.Duration `json:"duration_ns"`
}

// Failed reports whether the file failed: a not-ok test (not TODO), an
// error, or a count different from its plan.
func (f File) Failed() bool {
	if f.Error != "" {
		return true
	}
	for _, t := range f.Tests {
		if !t.OK && !strings.HasPrefix(strings.ToUpper(t.Directive), "TODO") {
			return true
		}
	}
	return f.Planned >= 0 && f.Planned != len(f.Tests)
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

// Discover lists the pgTAP files of a project: *.sql under supabase/tests
// and tests/ that plan or finish tests, sorted.
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
			if d.IsDir() || !strings.HasSuffix(p, ".sql") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if marker.Match(b) {
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

// Options configure Run.
type Options struct {
	Dir     string                                                         // project folder (file paths are relative to it)
	Clone   func(ctx context.Context) (url string, drop func(), err error) // a fresh database per file (CloneOf makes one)
	Workers int                                                            // files at once (default 1)
	Psql    string                                                         // psql binary (default: on PATH)
	// Progress is called when a file is done (nil: nothing).
	Progress func(f File)
}

var basejumpExt = regexp.MustCompile(`(?is)create\s+extension\s+(if\s+not\s+exists\s+)?"basejump-supabase_test_helpers"[^;]*;`)

// Run runs every file, Workers at a time, each on its own clone. Clones
// are made ahead of the workers and dropped after the run, so the workers
// only run files.
func Run(ctx context.Context, files []string, opts Options) []File {
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.Psql == "" {
		opts.Psql = "psql"
	}
	type job struct {
		i    int
		url  string
		drop func()
		err  error
	}
	out := make([]File, len(files))
	jobs := make(chan job, opts.Workers)
	drops := make(chan func(), len(files))
	go func() {
		for i := range files {
			url, drop, err := opts.Clone(ctx)
			jobs <- job{i, url, drop, err}
		}
		close(jobs)
	}()
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if j.err != nil {
					out[j.i] = File{Path: files[j.i], Planned: -1, Error: "clone the template: " + j.err.Error()}
				} else {
					out[j.i] = runFile(ctx, files[j.i], j.url, opts)
					drops <- j.drop
				}
				if opts.Progress != nil {
					opts.Progress(out[j.i])
				}
			}
		}()
	}
	wg.Wait()
	// Dropping a database checkpoints: done after the run, not during it.
	close(drops)
	for d := range drops {
		d()
	}
	return out
}

func runFile(ctx context.Context, path, url string, opts Options) File {
	start := time.Now()
	f := File{Path: path, Planned: -1}
	src, err := os.ReadFile(filepath.Join(opts.Dir, path))
	if err != nil {
		f.Error = err.Error()
		return f
	}
	if err := prepare(ctx, url, string(src)); err != nil {
		f.Error = err.Error()
		return f
	}
	sql := string(src)
	if basejumpExt.MatchString(sql) && !available(ctx, url, "basejump-supabase_test_helpers") {
		// dbtool's implementation is installed instead (see helpers.sql).
		sql = basejumpExt.ReplaceAllStringFunc(sql, func(m string) string {
			return "select 'dbtool: basejump-supabase_test_helpers provided by dbtool' as note;" + strings.Repeat("\n", strings.Count(m, "\n"))
		})
	}
	cmd := exec.CommandContext(ctx, opts.Psql, "-X", "-q", "-t", "-A", "--pset", "pager=off", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-")
	cmd.Stdin = strings.NewReader(sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	f.Output = stdout.String()
	parse(&f, stdout.String())
	if runErr != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = runErr.Error()
		}
		f.Error = msg
	}
	f.Duration = time.Since(start)
	return f
}

// prepare creates pgTAP in the clone when the file needs it and the
// database lacks it, and dbtool's basejump helpers when the file asks for
// them and the server has no such extension.
func prepare(ctx context.Context, url, src string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// A clone does not inherit its template's database settings: put
	// extensions back on the search_path, as on Supabase.
	if _, err := conn.Exec(ctx, `do $$ begin
		if exists (select 1 from pg_namespace where nspname = 'extensions') then
		  execute format('alter database %I set search_path to "$user", public, extensions', current_database());
		end if; end $$`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `select set_config('search_path', '"$user", public, extensions', false)`); err != nil {
		return err
	}
	var has bool
	if err := conn.QueryRow(ctx, `select exists (select 1 from pg_extension where extname = 'pgtap')`).Scan(&has); err != nil {
		return err
	}
	if !has && !regexp.MustCompile(`(?i)create\s+extension[^;]*pgtap`).MatchString(src) {
		if err := installPgTAP(ctx, conn); err != nil {
			return err
		}
	}
	if basejumpExt.MatchString(src) && !availableConn(ctx, conn, "basejump-supabase_test_helpers") {
		if _, err := conn.Exec(ctx, helpersSQL); err != nil {
			return fmt.Errorf("install dbtool's basejump test helpers: %w", err)
		}
	}
	return nil
}

func available(ctx context.Context, url, ext string) bool {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return availableConn(ctx, conn, ext)
}

func availableConn(ctx context.Context, conn *pgx.Conn, ext string) bool {
	var ok bool
	_ = conn.QueryRow(ctx, `select exists (select 1 from pg_available_extensions where name = $1)`, ext).Scan(&ok)
	return ok
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

// CloneOf returns an Options.Clone that copies template (FILE_COPY: a
// small test database copies several times faster than with WAL_LOG).
func CloneOf(serverURL, template string) func(ctx context.Context) (string, func(), error) {
	return func(ctx context.Context) (string, func(), error) {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		name := "dbtool_tap_" + hex.EncodeToString(b)
		admin, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			return "", nil, err
		}
		defer admin.Close(context.WithoutCancel(ctx))
		if _, err := admin.Exec(ctx, "create database "+name+" template "+pgx.Identifier{template}.Sanitize()+" strategy file_copy"); err != nil {
			return "", nil, err
		}
		u, err := url.Parse(serverURL)
		if err != nil {
			return "", nil, err
		}
		u.Path = "/" + name
		return u.String(), func() {
			c, err := pgx.Connect(context.WithoutCancel(ctx), serverURL)
			if err != nil {
				return
			}
			defer c.Close(context.WithoutCancel(ctx))
			_, _ = c.Exec(context.WithoutCancel(ctx), "drop database if exists "+name+" with (force)")
		}, nil
	}
}
