package pgtap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// Options configure Run.
type Options struct {
	Dir      string // project folder (file paths are relative to it)
	Server   string // URL of the server, as a role that may create databases
	Template string // the database the clones copy (Template's result)
	Strategy string // CREATE DATABASE's strategy for clones (default file_copy)
	Workers  int    // files at once (default 1)
	Psql     string // psql binary (default: psql on PATH, see PsqlBinary)
	// Progress is called when a file is done (nil: nothing).
	Progress func(f File)
}

var basejumpExt = regexp.MustCompile(`(?is)create\s+extension\s+(if\s+not\s+exists\s+)?"basejump-supabase_test_helpers"[^;]*;`)

var createsPgTAP = regexp.MustCompile(`(?i)create\s+extension[^;]*pgtap`)

// Run runs the files in their order (Discover sorts them as pg_prove
// does), Workers at a time, and returns their results in that order. Every file sees the
// database pg_prove would show it when it runs the files one after
// another on one database: the template with what the files before it
// committed.
//
//   - A file that is one transaction it rolls back (see sharedCloneReason:
//     BEGIN first, ROLLBACK last, as Supabase's docs and pg_prove's users
//     write them) leaves nothing behind. It runs on its worker's clone,
//     made once and reused by the worker's next such files; the runner
//     puts the clone's sequences back after each file (a rollback does
//     not; pg_prove lets them advance).
//   - Any other file may commit (a setup file that installs helpers or
//     fixtures for the files after it, a cleanup at the end). It runs on a
//     fresh clone of the state before it, and that clone, once the file is
//     done, is what the files after it are cloned from. The files before
//     it do not wait for it, nor it for them.
//
// Every file runs through psql with pg_prove's settings, so it passes or
// fails as under pg_prove or `supabase test db`.
func Run(ctx context.Context, files []string, opts Options) []File {
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.Psql == "" {
		opts.Psql = PsqlBinary()
	}
	out := make([]File, len(files))
	srcs := make([]string, len(files))
	// after[i]: the file whose committed state file i starts from (-1:
	// the template); states[k]: the database a committing file k left.
	after := make([]int, len(files))
	states := make([]*state, len(files))
	last := -1
	for i, path := range files {
		out[i] = File{Path: path, Planned: -1}
		after[i] = last
		b, err := os.ReadFile(filepath.Join(opts.Dir, path))
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		srcs[i] = string(b)
		if r := sharedCloneReason(srcs[i]); r != "" {
			out[i].Isolation = "commits: " + r
			states[i] = &state{ready: make(chan struct{})}
			last = i
		} else {
			out[i].Isolation = "transaction"
		}
	}
	for i := range files {
		if k := after[i]; k >= 0 {
			states[k].left++
		}
	}
	r := &runner{opts: opts}
	defer r.cleanup()
	// used: file i no longer needs the database it starts from; the last
	// file that needed it drops it, so a long chain of committing files
	// does not keep a copy of the database per file.
	used := func(i int) {
		if k := after[i]; k >= 0 {
			states[k].release(r, false)
		}
	}
	// from waits for the state file i starts from: "" is the template.
	from := func(i int) (string, error) {
		k := after[i]
		if k < 0 {
			return "", nil
		}
		select {
		case <-states[k].ready:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if states[k].err != nil {
			return "", fmt.Errorf("the database after %s: %w", files[k], states[k].err)
		}
		return states[k].db, nil
	}
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := range files {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var shared *cloneDB // this worker's clone for rolled-back files
			release := func() {
				if shared != nil {
					shared.close(ctx)
					r.dropLater(shared.drop)
					shared = nil
				}
			}
			defer release()
			for i := range jobs {
				f := &out[i]
				if f.Error != "" {
					used(i)
					if st := states[i]; st != nil {
						st.err = errors.New(f.Error)
						close(st.ready)
						st.release(r, true)
					}
					if opts.Progress != nil {
						opts.Progress(*f)
					}
					continue
				}
				start := time.Now()
				src, err := from(i)
				switch {
				case err != nil:
					used(i)
					f.Error = err.Error()
				case states[i] == nil:
					if shared != nil && shared.from != src {
						release()
					}
					if shared == nil {
						if shared, err = r.newClone(ctx, src, true, srcs[i]); err != nil {
							f.Error = "clone the template: " + err.Error()
						}
					}
					used(i)
					if shared != nil {
						r.runFile(ctx, f, srcs[i], shared.url)
						if err := shared.restore(ctx); err != nil {
							release() // not reusable: the next file gets a new one
						}
					}
				default:
					c, err := r.newClone(ctx, src, false, srcs[i])
					used(i)
					if err != nil {
						f.Error = "clone the template: " + err.Error()
						states[i].err = err
					} else {
						c.close(ctx)
						r.runFile(ctx, f, srcs[i], c.url)
						st := states[i]
						st.mu.Lock()
						st.db, st.drop = c.db, c.drop
						st.mu.Unlock()
					}
				}
				if st := states[i]; st != nil {
					if st.db == "" && st.err == nil {
						st.err = errors.New(f.Error)
					}
					close(st.ready)
					st.release(r, true)
				}
				f.Duration = time.Since(start)
				if opts.Progress != nil {
					opts.Progress(*f)
				}
			}
		}()
	}
	wg.Wait()
	// States a cancelled run did not get to drop.
	for _, st := range states {
		if st != nil {
			st.mu.Lock()
			if st.drop != nil {
				r.dropLater(st.drop)
				st.drop = nil
			}
			st.mu.Unlock()
		}
	}
	return out
}

// state is the database a committing file leaves for the files after it.
type state struct {
	ready chan struct{} // closed when the file is done
	db    string
	err   error

	mu   sync.Mutex
	drop func()
	left int  // files that start from it and have not cloned it yet
	done bool // the file is done
}

// release: the file is done (done), or one of the files after it has
// cloned the database or given up; when both are true for all of them
// the database goes.
func (st *state) release(r *runner, done bool) {
	st.mu.Lock()
	if done {
		st.done = true
	} else {
		st.left--
	}
	var drop func()
	if st.done && st.left == 0 && st.drop != nil {
		drop, st.drop = st.drop, nil
	}
	st.mu.Unlock()
	if drop != nil {
		r.dropping.Add(1)
		go func() { defer r.dropping.Done(); drop() }()
	}
}

type runner struct {
	opts Options

	mu       sync.Mutex
	drops    []func()
	dropping sync.WaitGroup // states dropped during the run
	helpers  string         // file holding dbtool's basejump helpers, once written
	tmp      string

	basejumpOnce sync.Once
	basejump     bool // the server has the basejump extension
}

// dropLater: dropping a database checkpoints, and the files after a
// committing file are cloned from its database, so clones are dropped
// after the run, all at once.
func (r *runner) dropLater(drop func()) {
	r.mu.Lock()
	r.drops = append(r.drops, drop)
	r.mu.Unlock()
}

func (r *runner) cleanup() {
	r.dropping.Wait()
	var wg sync.WaitGroup
	for _, d := range r.drops {
		wg.Add(1)
		go func() { defer wg.Done(); d() }()
	}
	wg.Wait()
	if r.tmp != "" {
		os.RemoveAll(r.tmp)
	}
}

// cloneDB is a clone of the template or of a committing file's database, set
// up for test files.
type cloneDB struct {
	db, url string
	from    string // the database it copies ("": the template)
	drop    func()
	conn    *pgx.Conn // shared clones: kept open to put sequences back
	seqs    []seqState
}

type seqState struct {
	oid      uint32
	value    int64
	isCalled bool
}

func (c *cloneDB) close(ctx context.Context) {
	if c.conn != nil {
		c.conn.Close(context.WithoutCancel(ctx))
		c.conn = nil
	}
}

// restore puts the clone's sequences back as they were when it was made:
// a rolled-back nextval is not undone by the rollback.
func (c *cloneDB) restore(ctx context.Context) error {
	if len(c.seqs) == 0 {
		return nil
	}
	oids := make([]int64, len(c.seqs))
	vals := make([]int64, len(c.seqs))
	called := make([]bool, len(c.seqs))
	for i, s := range c.seqs {
		oids[i], vals[i], called[i] = int64(s.oid), s.value, s.isCalled
	}
	_, err := c.conn.Exec(ctx, `select count(pg_catalog.setval(s::oid::regclass, v, c))
		from unnest($1::int8[], $2::int8[], $3::bool[]) as x(s, v, c)`, oids, vals, called)
	return err
}

// newClone copies from (a committing file's database, or "" for the
// template) for a file and sets it up: extensions back on its
// search_path, pgTAP when missing, and for a shared clone the state of
// its sequences.
func (r *runner) newClone(ctx context.Context, from string, shared bool, src string) (*cloneDB, error) {
	src0 := from
	if src0 == "" {
		src0 = r.opts.Template
	}
	db, url, drop, err := createClone(ctx, r.opts.Server, src0, r.opts.Strategy)
	if err != nil {
		return nil, err
	}
	c := &cloneDB{db: db, url: url, from: from, drop: drop}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		r.dropLater(drop)
		return nil, err
	}
	c.conn = conn
	if err := r.setup(ctx, c, shared, src); err != nil {
		c.close(ctx)
		r.dropLater(drop)
		return nil, err
	}
	return c, nil
}

func (r *runner) setup(ctx context.Context, c *cloneDB, shared bool, src string) error {
	conn := c.conn
	// A clone does not inherit its template's database settings: put
	// extensions back on the search_path, as on Supabase. pgTAP too when
	// the template lacks it and the file does not create it.
	var has bool
	if err := conn.QueryRow(ctx, `select exists (select 1 from pg_extension where extname = 'pgtap')`).Scan(&has); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `do $$ begin
		if exists (select 1 from pg_namespace where nspname = 'extensions') then
		  execute format('alter database %I set search_path to "$user", public, extensions', current_database());
		  set search_path to "$user", public, extensions;
		end if; end $$`); err != nil {
		return err
	}
	if !has && (shared || !createsPgTAP.MatchString(src)) {
		if err := installPgTAP(ctx, conn); err != nil {
			return err
		}
	}
	r.basejumpOnce.Do(func() { r.basejump = availableConn(ctx, conn, "basejump-supabase_test_helpers") })
	if !shared {
		return nil
	}
	rows, err := conn.Query(ctx, `select c.oid, format('%I.%I', n.nspname, c.relname) from pg_class c
		join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'S' and c.relpersistence <> 't' order by c.oid`)
	if err != nil {
		return err
	}
	var parts []string
	for rows.Next() {
		var oid uint32
		var name string
		if err := rows.Scan(&oid, &name); err != nil {
			rows.Close()
			return err
		}
		parts = append(parts, fmt.Sprintf("select %d::oid, last_value, is_called from %s", oid, name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(parts) == 0 {
		return nil
	}
	rows, err = conn.Query(ctx, strings.Join(parts, " union all "))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s seqState
		if err := rows.Scan(&s.oid, &s.value, &s.isCalled); err != nil {
			return err
		}
		c.seqs = append(c.seqs, s)
	}
	return rows.Err()
}

// helpersFile writes dbtool's basejump helpers for psql to include.
func (r *runner) helpersFile() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.helpers != "" {
		return r.helpers, nil
	}
	dir, err := os.MkdirTemp("", "dbtool-pgtap-")
	if err != nil {
		return "", err
	}
	r.tmp = dir
	p := filepath.Join(dir, "basejump-supabase_test_helpers.sql")
	if err := os.WriteFile(p, []byte(helpersSQL), 0o644); err != nil {
		return "", err
	}
	r.helpers = p
	return p, nil
}

// runFile runs one file through psql as pg_prove does (its settings, the
// file given with -f, so that psql's messages name it and \ir includes
// from its folder), from the folder `supabase test db` runs pg_prove in
// (supabase/ for supabase/tests) or the project's, for \i; the path is
// relative to that folder. When the file
// creates the basejump test helpers and the server has no such extension,
// psql reads the file from its standard input instead, with an include
// of dbtool's implementation at that point (same place in the file, same
// transaction, same line numbers).
func (r *runner) runFile(ctx context.Context, f *File, src, url string) {
	dir := r.opts.Dir
	if strings.HasPrefix(f.Path, "supabase/tests/") {
		dir = filepath.Join(dir, "supabase")
	}
	path, err := filepath.Rel(dir, filepath.Join(r.opts.Dir, filepath.FromSlash(f.Path)))
	if err != nil {
		path = filepath.Join(r.opts.Dir, filepath.FromSlash(f.Path))
	}
	input := []string{"-f", path}
	var stdin io.Reader
	if basejumpExt.MatchString(src) && !r.basejump {
		p, err := r.helpersFile()
		if err != nil {
			f.Error = err.Error()
			return
		}
		sql := basejumpExt.ReplaceAllStringFunc(src, func(m string) string {
			return `\i '` + strings.ReplaceAll(p, `'`, `\'`) + `' \\ ` + strings.Repeat("\n", strings.Count(m, "\n"))
		})
		input, stdin = []string{"-f", "-"}, strings.NewReader(sql)
	}
	args := append([]string{"-X", "-q", "-t", "-A", "--pset", "pager=off", "-v", "ON_ERROR_STOP=1", "-d", url}, input...)
	cmd := exec.CommandContext(ctx, r.opts.Psql, args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	f.Output = stdout.String()
	parse(f, f.Output)
	if runErr != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = runErr.Error()
		}
		f.Error = msg
	}
}

var (
	psqlOnce sync.Once
	psqlPath string
)

// PsqlBinary is the psql to run files with: psql on PATH, except that
// Debian's pg_wrapper (a Perl script that picks a version on every call,
// some 30 ms per file) is replaced by the binary it would pick when no
// cluster is configured, the newest installed client.
func PsqlBinary() string {
	psqlOnce.Do(func() {
		psqlPath = "psql"
		p, err := exec.LookPath("psql")
		if err != nil {
			return
		}
		psqlPath = p
		real, err := filepath.EvalSymlinks(p)
		if err != nil || filepath.Base(real) != "pg_wrapper" {
			return
		}
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
		sort.Slice(matches, func(i, j int) bool { return major(matches[i]) > major(matches[j]) })
		if len(matches) > 0 {
			psqlPath = matches[0]
		}
	})
	return psqlPath
}

func major(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

func availableConn(ctx context.Context, conn *pgx.Conn, ext string) bool {
	var ok bool
	_ = conn.QueryRow(ctx, `select exists (select 1 from pg_available_extensions where name = $1)`, ext).Scan(&ok)
	return ok
}
