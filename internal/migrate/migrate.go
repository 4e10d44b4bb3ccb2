// Package migrate applies a project's SQL to a database: forward-only
// versioned files from migrations/ through golang-migrate, then the
// repeatable definitions in procedures/ and policies/ whose content changed.
//
// dbtool adds what golang-migrate lacks: a ledger with checksums (edited,
// removed and out-of-order files are caught), a version record written in
// the same transaction as the file (so golang-migrate's "dirty" state after a
// rolled-back file is recovered safely), a bounded wait for a concurrent
// runner, default lock and statement timeouts for DDL, errors that name the
// file and line, a drift check against the live catalog, and
// NOTIFY pgrst, 'reload schema' after a change.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults for Options.
const (
	DefaultLockTimeout      = 60 * time.Second
	DefaultDDLLockTimeout   = 10 * time.Second
	DefaultStatementTimeout = 10 * time.Minute
)

// Options configure a Runner.
type Options struct {
	URL     string
	Project Project
	// LockTimeout bounds the wait for another dbtool migrate on the same
	// database (default 60s). When it passes, Up fails with ErrLocked.
	LockTimeout time.Duration
	// DDLLockTimeout is the session lock_timeout while applying SQL, so a
	// migration never queues behind production traffic forever (default 10s;
	// negative: no limit).
	DDLLockTimeout time.Duration
	// StatementTimeout is the session statement_timeout (default 10m;
	// negative: no limit).
	StatementTimeout time.Duration
	// SkipPlatform skips the Supabase compatibility layer.
	SkipPlatform bool
	// Platform is the platform layer's default-privileges profile
	// (platform.ProfileDbtool, ProfileSupabase, ProfileSupabaseAutoExpose);
	// default dbtool.
	Platform string
	// AcceptDrift accepts changes made outside dbtool that no repeatable
	// file restores, instead of refusing to migrate (Up records who and
	// when in dbtool.drift_accepted).
	AcceptDrift bool
	// Seed applies the project's seed files after the migrations (see
	// Project.Seeds), recorded in supabase_migrations.seed_files.
	Seed bool
	// Logf receives what the user should know (stderr in the CLI):
	// recoveries, adoptions, skipped files.
	Logf func(format string, args ...any)
	// Progress is called with each file's path before it is applied (a
	// progress line on a terminal in the CLI); nil: nothing.
	Progress func(path string)
}

// Runner applies and inspects a project's migrations on one database.
type Runner struct {
	opts Options

	dbName   string        // the database's name (for golang-migrate's lock id)
	warm     *sql.DB       // golang-migrate's handle, connected in the background
	warmDone chan struct{} // closed when the background connect finished
}

// New validates opts and returns a Runner.
func New(opts Options) (*Runner, error) {
	if opts.URL == "" {
		return nil, errors.New("migrate: no database URL")
	}
	opts.Project = opts.Project.withDefaults()
	if opts.Platform == "" && opts.Project.Layout == LayoutSupabase {
		opts.Platform = "supabase" // platform.ProfileSupabase: a Supabase project gets Supabase's defaults
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.DDLLockTimeout == 0 {
		opts.DDLLockTimeout = DefaultDDLLockTimeout
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Progress == nil {
		opts.Progress = func(string) {}
	}
	return &Runner{opts: opts}, nil
}

func millis(d time.Duration) string {
	if d < 0 {
		return "0"
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// connConfig is the configuration of every connection dbtool migrates with.
func (r *Runner) connConfig(app string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(r.opts.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = app
	cfg.RuntimeParams["lock_timeout"] = millis(r.opts.DDLLockTimeout)
	cfg.RuntimeParams["statement_timeout"] = millis(r.opts.StatementTimeout)
	cfg.RuntimeParams["client_min_messages"] = "warning"
	if r.supabaseLike() {
		// As on Supabase: extensions (pgcrypto, uuid-ossp...) resolve
		// unqualified.
		cfg.RuntimeParams["search_path"] = `"$user", public, extensions`
	}
	return cfg, nil
}

func (r *Runner) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := r.connConfig("dbtool migrate")
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, &ConnectError{Err: err}
	}
	return conn, nil
}

// supabaseLike: the project is a Supabase project (its layout or its
// platform profile says so).
func (r *Runner) supabaseLike() bool {
	return r.opts.Project.Layout == LayoutSupabase || strings.HasPrefix(r.opts.Platform, "supabase")
}

// Quiet stops progress lines (e.g. inside a larger command's report).
func (r *Runner) Quiet() {
	r.opts.Logf = func(string, ...any) {}
	r.opts.Progress = func(string) {}
}

// ConnectError means the database could not be reached.
type ConnectError struct{ Err error }

func (e *ConnectError) Error() string { return "connect: " + e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// ErrLocked is returned when another runner held the migration lock for
// longer than Options.LockTimeout.
var ErrLocked = errors.New("another dbtool migrate holds the migration lock on this database")

// LockedError says who holds the lock.
type LockedError struct {
	Waited time.Duration
	Holder string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s (%s); waited %s: retry later or raise --lock-timeout", ErrLocked.Error(), e.Holder, e.Waited.Round(time.Millisecond))
}
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockKey is the advisory lock that serialises dbtool runners on one
// database (advisory locks are per database).
const lockKey = `hashtextextended('dbtool.migrate', 0)`

// lock waits up to LockTimeout for the migration lock, polling so that the
// wait is bounded even where lock_timeout would not apply.
func (r *Runner) lock(ctx context.Context, conn *pgx.Conn) error {
	start := time.Now()
	logged := false
	for {
		var ok bool
		if err := conn.QueryRow(ctx, `select pg_try_advisory_lock(`+lockKey+`)`).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		waited := time.Since(start)
		if !logged {
			r.opts.Logf("waiting for another dbtool migrate to finish (up to %s)", r.opts.LockTimeout)
			logged = true
		}
		if waited >= r.opts.LockTimeout {
			holder := "holder unknown"
			_ = conn.QueryRow(ctx, `
				select format('pid %s, %s, since %s', a.pid, coalesce(nullif(a.application_name, ''), 'no application_name'),
				              to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS'))
				from pg_locks l join pg_stat_activity a on a.pid = l.pid
				where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
				  and (l.classid::bigint << 32 | l.objid::bigint) = `+lockKey+` limit 1`).Scan(&holder)
			return &LockedError{Waited: waited, Holder: holder}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func unlock(ctx context.Context, conn *pgx.Conn) {
	_, _ = conn.Exec(context.WithoutCancel(ctx), `select pg_advisory_unlock(`+lockKey+`)`)
}
