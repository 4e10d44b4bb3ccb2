// Package plan tells a reviewer what pending migrations will do before they
// run in production: the locks each statement takes and how long they would
// be held, which tables are rewritten, which rows and roles gain or lose
// access, and how the API PostgREST serves changes.
//
// It never touches the target database beyond reading its table sizes: the
// "before" database is built from the project's files on a throwaway server,
// filled with representative rows, and the pending files are applied to it
// statement by statement inside one transaction while its own backend's
// locks and relfilenodes are read after each statement.
package plan

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/dbtool-dev/dbtool/internal/matrix"
	"github.com/dbtool-dev/dbtool/internal/migrate"
	"github.com/dbtool-dev/dbtool/internal/sqlscan"
)

// Levels of a finding (the lint contract: error blocks the gate).
const (
	LevelError = "error"
	LevelWarn  = "warn"
	LevelInfo  = "info"
)

// Options configure Run.
type Options struct {
	// ServerURL is a throwaway server where Run may create and drop
	// databases (a superuser URL). Never a production server.
	ServerURL string
	// Base is the project as the target database has it (the files at
	// --base, or the working tree minus the target's pending files).
	Base migrate.Project
	// Head is the project with the pending changes.
	Head migrate.Project
	// Schemas exposed through the API; default public.
	Schemas []string
	// Rows is the number of representative rows generated before the
	// pending files run in each table they name and in the tables those
	// reference (default 10,000: enough that per-row work dominates the measured durations the estimates scale).
	Rows int
	// TargetRows are the real sizes (pg_class.reltuples of the target
	// database) by schema.table, used to estimate how long a lock would
	// be held there. Empty: estimates are given per million rows.
	TargetRows map[string]float64
	// LockTimeout says whether the migrations will run with a lock_timeout
	// (dbtool's ddl_lock_timeout does unless disabled). When false, a
	// statement that locks an existing table is a finding unless the file
	// sets lock_timeout itself.
	LockTimeout bool
	// Personas for the access matrix (default matrix.DefaultPersonas()).
	Personas []matrix.Persona
	// NoMatrix skips the access diff (the API diff is still computed).
	NoMatrix bool
	Logf     func(format string, args ...any)
}

// Result is what Run found.
type Result struct {
	Files    []File           `json:"files"`
	Findings []Finding        `json:"findings"`
	Access   []AccessChange   `json:"access"`
	API      []APIChange      `json:"api"`
	Grants   []GrantChange    `json:"grants"`
	Rows     map[string]int64 `json:"rows"`                // representative rows per table in the plan database
	RowNotes []string         `json:"row_notes,omitempty"` // tables no rows could be generated for, and why
	Duration time.Duration    `json:"-"`
}

// File is one pending file and its statements.
type File struct {
	Path       string      `json:"path"`
	Kind       string      `json:"kind"` // versioned, procedure, policy
	Statements []Statement `json:"statements"`
	// Error is set when a statement failed: the migration would fail too.
	Error string `json:"error,omitempty"`
}

// Statement is one statement as it ran on the plan database.
type Statement struct {
	Line        int           `json:"line"`
	SQL         string        `json:"sql"` // the first line, shortened
	Duration    time.Duration `json:"duration_ns"`
	RowsTouched int64         `json:"rows_touched"`
	Locks       []Lock        `json:"locks"`
	Rewrites    []string      `json:"rewrites"` // existing tables (and their indexes) whose storage was rewritten
	Error       string        `json:"error,omitempty"`
	SQLState    string        `json:"sqlstate,omitempty"`

	pre preFacts
}

// Lock is a relation lock a statement acquired (or strengthened).
type Lock struct {
	Relation string `json:"relation"`
	Mode     string `json:"mode"`     // AccessExclusiveLock, ShareLock, ...
	Existing bool   `json:"existing"` // the relation existed before the migration
	Rows     int64  `json:"rows"`     // rows of the relation in the plan database
	// Estimate is how long the lock would likely be held on the target's
	// size (or per million rows without a target), when the statement's
	// work scales with the table.
	Estimate string `json:"estimate,omitempty"`
}

// Finding is a rule violation with its evidence.
type Finding struct {
	Rule     string `json:"rule"` // e.g. index_not_concurrently
	ID       string `json:"id"`   // e.g. P002
	Level    string `json:"level"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Object   string `json:"object,omitempty"`
	Detail   string `json:"detail"`
	Evidence string `json:"evidence,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

// AccessChange is a matrix cell whose outcome changed.
type AccessChange struct {
	Sign    string `json:"sign"` // "+" access opened, "-" closed, "~" changed
	Role    string `json:"role"`
	Command string `json:"command"`
	Object  string `json:"object"`
	Before  string `json:"before"`
	After   string `json:"after"`
}

func (c AccessChange) String() string {
	return fmt.Sprintf("%s %s %s %s: %s -> %s", c.Sign, c.Role, c.Command, c.Object, c.Before, c.After)
}

// APIChange is a change of the surface PostgREST serves.
type APIChange struct {
	Change string `json:"change"` // added, removed, renamed
	Kind   string `json:"kind"`   // table, view, column, function, argument
	Object string `json:"object"`
	Detail string `json:"detail,omitempty"`
}

func (c APIChange) String() string {
	s := c.Change + " " + c.Kind + " " + c.Object
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// GrantChange is a privilege added or revoked for an API role.
type GrantChange struct {
	Sign      string `json:"sign"`
	Grantee   string `json:"grantee"`
	Privilege string `json:"privilege"`
	Object    string `json:"object"`
}

func (g GrantChange) String() string {
	return fmt.Sprintf("%s %s %s on %s", g.Sign, g.Grantee, g.Privilege, g.Object)
}

// Failed reports whether any finding is at level error.
func (r *Result) Failed() bool {
	for _, f := range r.Findings {
		if f.Level == LevelError {
			return true
		}
	}
	return false
}

// Counts returns the number of findings per level.
func (r *Result) Counts() (errs, warns, infos int) {
	for _, f := range r.Findings {
		switch f.Level {
		case LevelError:
			errs++
		case LevelWarn:
			warns++
		default:
			infos++
		}
	}
	return
}

// ErrNothingPending is returned when the head project has nothing the base
// lacks.
var ErrNothingPending = errors.New("nothing to plan: no pending migration and no changed procedure or policy")

// Pending compares the head project with the base: versioned files whose
// version the base lacks, and repeatable files that are new or changed.
func Pending(base, head migrate.Project) ([]migrate.Migration, []migrate.Repeatable, error) {
	bm, err := base.LoadMigrations()
	if err != nil {
		return nil, nil, fmt.Errorf("base: %w", err)
	}
	hm, err := head.LoadMigrations()
	if err != nil {
		return nil, nil, err
	}
	have := map[uint64]bool{}
	for _, m := range bm {
		have[m.Version] = true
	}
	var mig []migrate.Migration
	for _, m := range hm {
		if !have[m.Version] {
			mig = append(mig, m)
		}
	}
	br, err := base.LoadRepeatables()
	if err != nil {
		return nil, nil, fmt.Errorf("base: %w", err)
	}
	hr, err := head.LoadRepeatables()
	if err != nil {
		return nil, nil, err
	}
	sums := map[string]string{}
	for _, r := range br {
		sums[r.Path] = r.Checksum
	}
	var reps []migrate.Repeatable
	for _, r := range hr {
		if sums[r.Path] != r.Checksum {
			reps = append(reps, r)
		}
	}
	return mig, reps, nil
}

// Run builds the base database on opts.ServerURL, measures the pending
// files on it and compares access and API before and after. The plan
// database is dropped when Run returns.
func Run(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if len(opts.Schemas) == 0 {
		opts.Schemas = []string{"public"}
	}
	if opts.Rows == 0 {
		opts.Rows = 10000
	}
	mig, reps, err := Pending(opts.Base, opts.Head)
	if err != nil {
		return nil, err
	}
	if len(mig) == 0 && len(reps) == 0 {
		return nil, ErrNothingPending
	}

	// Two databases from the base files, built in parallel: one gets the
	// representative rows and the measured statements; the access matrix
	// runs on the other, without the bulk rows (access does not depend on
	// them, and probing thousands of rows per cell would only cost time).
	stamp := time.Now().UnixNano()
	measureURL, dropMeasure, err := createDatabase(ctx, opts.ServerURL, fmt.Sprintf("dbtool_plan_%d", stamp))
	if err != nil {
		return nil, err
	}
	defer dropMeasure()
	accessURL := ""
	if !opts.NoMatrix {
		u, dropAccess, err := createDatabase(ctx, opts.ServerURL, fmt.Sprintf("dbtool_plan_access_%d", stamp))
		if err != nil {
			return nil, err
		}
		defer dropAccess()
		accessURL = u
	}
	var g errgroup.Group
	for _, u := range []string{measureURL, accessURL} {
		if u == "" {
			continue
		}
		g.Go(func() error {
			runner, err := migrate.New(migrate.Options{URL: u, Project: opts.Base})
			if err != nil {
				return err
			}
			if _, err := runner.Up(ctx); err != nil {
				return fmt.Errorf("build the database before the change from the base files: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res := &Result{Rows: map[string]int64{}}

	conn, err := pgx.Connect(ctx, measureURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var mBefore *matrix.Matrix
	g = errgroup.Group{}
	if !opts.NoMatrix {
		g.Go(func() error {
			var err error
			if mBefore, err = matrix.Run(ctx, accessURL, matrix.Options{Schemas: opts.Schemas, Personas: opts.Personas}); err != nil {
				return fmt.Errorf("access matrix before: %w", err)
			}
			return nil
		})
	}
	opts.Logf("plan: generating %d representative rows per table", opts.Rows)
	var srcs []string
	for _, m := range mig {
		srcs = append(srcs, m.SQL)
	}
	for _, r := range reps {
		srcs = append(srcs, r.SQL)
	}
	if err := generateRows(ctx, conn, opts.Schemas, opts.Rows, touchedRelations(srcs), res); err != nil {
		return nil, fmt.Errorf("generate rows: %w", err)
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	before, err := readSurface(ctx, conn, opts.Schemas)
	if err != nil {
		return nil, err
	}

	opts.Logf("plan: applying %d versioned and %d repeatable files statement by statement", len(mig), len(reps))
	ap := &applier{conn: conn, opts: opts, res: res, before: before}
	if err := ap.run(ctx, mig, reps); err != nil {
		return nil, err
	}

	after, err := readSurface(ctx, conn, opts.Schemas)
	if err != nil {
		return nil, err
	}
	res.API = diffAPI(before, after)
	res.Grants = diffGrants(before, after)
	res.Findings = append(res.Findings, surfaceFindings(before, after, res)...)
	if !opts.NoMatrix && !ap.failed {
		if err := applyPlain(ctx, accessURL, mig, reps); err != nil {
			return nil, fmt.Errorf("apply the pending files for the access matrix: %w", err)
		}
		mAfter, err := matrix.Run(ctx, accessURL, matrix.Options{Schemas: opts.Schemas, Personas: opts.Personas})
		if err != nil {
			return nil, fmt.Errorf("access matrix after: %w", err)
		}
		res.Access = diffMatrix(mBefore, mAfter)
		res.Findings = append(res.Findings, accessFindings(res.Access)...)
	}
	sortFindings(res.Findings)
	res.Duration = time.Since(start)
	return res, nil
}

// createDatabase creates a database on the throwaway server and returns
// its URL and a function that drops it.
func createDatabase(ctx context.Context, serverURL, name string) (string, func(), error) {
	if err := adminExec(ctx, serverURL, "create database "+name); err != nil {
		return "", nil, fmt.Errorf("create the plan database: %w", err)
	}
	drop := func() {
		_ = adminExec(context.WithoutCancel(ctx), serverURL, "drop database if exists "+name+" with (force)")
	}
	u, err := withDatabase(serverURL, name)
	if err != nil {
		drop()
		return "", nil, err
	}
	return u, drop, nil
}

// applyPlain applies the pending files statement by statement without
// measuring (the access database).
func applyPlain(ctx context.Context, url string, mig []migrate.Migration, reps []migrate.Repeatable) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var srcs []string
	for _, m := range mig {
		srcs = append(srcs, m.SQL)
	}
	for _, r := range reps {
		srcs = append(srcs, r.SQL)
	}
	for _, src := range srcs {
		for _, st := range sqlscan.Split(src) {
			if t := parseOne(st.SQL); t != nil && t.GetTransactionStmt() != nil {
				continue
			}
			if _, err := conn.Exec(ctx, st.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("line %d: %w", st.Line, err)
			}
		}
	}
	return nil
}

func sortFindings(fs []Finding) {
	rank := map[string]int{LevelError: 0, LevelWarn: 1, LevelInfo: 2}
	sort.SliceStable(fs, func(i, j int) bool {
		if rank[fs[i].Level] != rank[fs[j].Level] {
			return rank[fs[i].Level] < rank[fs[j].Level]
		}
		if fs[i].File != fs[j].File {
			return fs[i].File < fs[j].File
		}
		return fs[i].Line < fs[j].Line
	})
}

func adminExec(ctx context.Context, serverURL, sql string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("server URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}
