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
	"encoding/json"
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
	pg_query "github.com/pganalyze/pg_query_go/v6"
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
	Dir      string // project folder (file paths are relative to it)
	Server   string // URL of the server, as a role that may create databases
	Template string // the database each clone copies (Template's result)
	Workers  int    // files at once (default 1)
	Psql     string // psql binary (default: on PATH)
	// Progress is called when a file is done (nil: nothing).
	Progress func(f File)
}

var basejumpExt = regexp.MustCompile(`(?is)create\s+extension\s+(if\s+not\s+exists\s+)?"basejump-supabase_test_helpers"[^;]*;`)

// Run runs the files in their order with the semantics of pg_prove on one
// database (what `supabase test db` does), faster:
//
//   - A file that runs entirely inside one transaction it rolls back
//     (begin; ... rollback;, the way Supabase and basejump tests are
//     written; read on PostgreSQL's parse tree) leaves the database as it
//     found it. Consecutive such files run in parallel, Workers at a time;
//     each worker runs its files one after another on a clone of its own.
//   - A file that commits (a setup file installing helpers, a teardown
//     dropping them, or one the parser cannot read, such as one with psql
//     meta-commands) runs alone, after the files before it, on a fresh
//     clone; the files after it run on clones of that clone, so they see
//     what it committed, as they would under pg_prove.
//
// Clones are dropped after the run (a drop checkpoints).
func Run(ctx context.Context, files []string, opts Options) []File {
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.Psql == "" {
		opts.Psql = "psql"
	}
	out := make([]File, len(files))
	srcs := make([]string, len(files))
	isolated := make([]bool, len(files))
	for i, f := range files {
		b, err := os.ReadFile(filepath.Join(opts.Dir, f))
		if err != nil {
			out[i] = File{Path: f, Planned: -1, Error: err.Error()}
			continue
		}
		srcs[i], isolated[i] = string(b), RollsBack(string(b))
	}
	var drops []func()
	defer func() {
		for _, d := range drops {
			d()
		}
	}()
	base := opts.Template
	for i := 0; i < len(files); {
		if out[i].Error != "" {
			i++
			continue
		}
		if isolated[i] {
			j := i
			for j < len(files) && isolated[j] && out[j].Error == "" {
				j++
			}
			drops = append(drops, runParallel(ctx, files, srcs, out, i, j, base, opts)...)
			i = j
			continue
		}
		url, name, drop, err := clone(ctx, opts.Server, base)
		if err != nil {
			out[i] = File{Path: files[i], Planned: -1, Error: "clone the template: " + err.Error()}
		} else {
			drops = append(drops, drop)
			db := &database{url: url}
			if err := prepare(ctx, db, srcs[i]); err != nil {
				out[i] = File{Path: files[i], Planned: -1, Error: err.Error()}
			} else {
				out[i] = runFile(ctx, files[i], srcs[i], url, opts)
			}
			base = name // the next files see what this one committed
		}
		if opts.Progress != nil {
			opts.Progress(out[i])
		}
		i++
	}
	return out
}

// runParallel runs files[i:j], which all roll back, Workers at a time; each
// worker clones base once and runs its files there. It returns the drops.
func runParallel(ctx context.Context, files, srcs []string, out []File, i, j int, base string, opts Options) []func() {
	jobs := make(chan int)
	go func() {
		for k := i; k < j; k++ {
			jobs <- k
		}
		close(jobs)
	}()
	var mu sync.Mutex
	var drops []func()
	var wg sync.WaitGroup
	for w := 0; w < min(opts.Workers, j-i); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var db *database
			var cloneErr error
			for k := range jobs {
				if db == nil && cloneErr == nil {
					url, _, drop, err := clone(ctx, opts.Server, base)
					if cloneErr = err; err == nil {
						db = &database{url: url}
						mu.Lock()
						drops = append(drops, drop)
						mu.Unlock()
					}
				}
				switch {
				case cloneErr != nil:
					out[k] = File{Path: files[k], Planned: -1, Error: "clone the template: " + cloneErr.Error()}
				default:
					if err := prepare(ctx, db, srcs[k]); err != nil {
						out[k] = File{Path: files[k], Planned: -1, Error: err.Error()}
					} else {
						out[k] = runFile(ctx, files[k], srcs[k], db.url, opts)
					}
				}
				if opts.Progress != nil {
					opts.Progress(out[k])
				}
			}
		}()
	}
	wg.Wait()
	return drops
}

// database is a clone a worker prepared: what is installed in it.
type database struct {
	url      string
	prepared bool // pgTAP checked (and created when missing)
	helpers  bool // dbtool's basejump helpers installed
}

// RollsBack reports whether a test file runs entirely inside one
// transaction that it rolls back: its first statement is BEGIN (or START
// TRANSACTION), its last ROLLBACK, and nothing in between commits or ends
// the transaction (savepoints are fine). Read on PostgreSQL's parse tree; a
// file the parser cannot read (psql meta-commands) does not qualify.
func RollsBack(src string) bool {
	js, err := pg_query.ParseToJSON(src)
	if err != nil {
		return false
	}
	var tree struct {
		Stmts []struct {
			Stmt map[string]json.RawMessage `json:"stmt"`
		} `json:"stmts"`
	}
	if json.Unmarshal([]byte(js), &tree) != nil || len(tree.Stmts) < 2 {
		return false
	}
	kind := func(i int) string {
		raw, ok := tree.Stmts[i].Stmt["TransactionStmt"]
		if !ok {
			return ""
		}
		var t struct {
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal(raw, &t)
		return t.Kind
	}
	last := len(tree.Stmts) - 1
	if k := kind(0); k != "TRANS_STMT_BEGIN" && k != "TRANS_STMT_START" {
		return false
	}
	if kind(last) != "TRANS_STMT_ROLLBACK" {
		return false
	}
	for i := 1; i < last; i++ {
		switch kind(i) {
		case "", "TRANS_STMT_SAVEPOINT", "TRANS_STMT_RELEASE", "TRANS_STMT_ROLLBACK_TO":
		default:
			return false
		}
	}
	return true
}

func runFile(ctx context.Context, path, sql, url string, opts Options) File {
	start := time.Now()
	f := File{Path: path, Planned: -1}
	if basejumpExt.MatchString(sql) && !available(ctx, url, "basejump-supabase_test_helpers") {
		// dbtool's implementation is installed instead (see helpers.sql).
		sql = basejumpExt.ReplaceAllStringFunc(sql, func(m string) string {
			return "select 'dbtool: basejump-supabase_test_helpers provided by dbtool' as note;" + strings.Repeat("\n", strings.Count(m, "\n"))
		})
	}
	cmd := exec.CommandContext(ctx, opts.Psql, "-X", "-q", "-t", "-A", "--pset", "pager=off", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-")
	// A clone does not inherit its template's database settings: put
	// extensions back on the search_path, as on Supabase, for the session.
	cmd.Env = append(os.Environ(), `PGOPTIONS=-c search_path="$user",public,extensions`)
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
// them and the server has no such extension. What a database already got
// is not done again.
func prepare(ctx context.Context, db *database, src string) error {
	needHelpers := basejumpExt.MatchString(src) && !db.helpers
	if db.helpers || (db.prepared && !needHelpers) {
		return nil
	}
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `select set_config('search_path', '"$user", public, extensions', false)`); err != nil {
		return err
	}
	if !db.prepared {
		var has bool
		if err := conn.QueryRow(ctx, `select exists (select 1 from pg_extension where extname = 'pgtap')`).Scan(&has); err != nil {
			return err
		}
		if !has && !regexp.MustCompile(`(?i)create\s+extension[^;]*pgtap`).MatchString(src) {
			if err := installPgTAP(ctx, conn); err != nil {
				return err
			}
		}
		db.prepared = true
	}
	if needHelpers && !availableConn(ctx, conn, "basejump-supabase_test_helpers") {
		if _, err := conn.Exec(ctx, helpersSQL); err != nil {
			return fmt.Errorf("install dbtool's basejump test helpers: %w", err)
		}
		db.helpers = true
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

// clone copies template into a new database (FILE_COPY: a small test
// database copies several times faster than with WAL_LOG) and returns its
// URL, its name and how to drop it.
func clone(ctx context.Context, serverURL, template string) (string, string, func(), error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "dbtool_tap_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", "", nil, err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "create database "+name+" template "+pgx.Identifier{template}.Sanitize()+" strategy file_copy"); err != nil {
		return "", "", nil, err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", "", nil, err
	}
	u.Path = "/" + name
	return u.String(), name, func() {
		c, err := pgx.Connect(context.WithoutCancel(ctx), serverURL)
		if err != nil {
			return
		}
		defer c.Close(context.WithoutCancel(ctx))
		_, _ = c.Exec(context.WithoutCancel(ctx), "drop database if exists "+name+" with (force)")
	}, nil
}
