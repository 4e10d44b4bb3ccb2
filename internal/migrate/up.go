package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing/fstest"
	"time"

	gm "github.com/golang-migrate/migrate/v4"
	gmdb "github.com/golang-migrate/migrate/v4/database"
	gmpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dbtool-dev/dbtool/internal/pgerr"
	"github.com/dbtool-dev/dbtool/internal/platform"
	"github.com/dbtool-dev/dbtool/internal/sqlscan"
)

// UpResult says what Up did.
type UpResult struct {
	Platform    platform.Result
	Migrations  []Migration  // versioned files applied now
	Repeatables []Repeatable // repeatable files applied now
	Recovered   string       // what was done about a dirty golang-migrate state, if anything
	Missing     []string     // applied files no longer in the folder (warning)
	Skipped     []string     // supabase layout: .sql files whose names are not migrations (the Supabase CLI skips them too)
	Seeds       []SeedResult // with Options.Seed: what happened to each seed file
	Drift       []Drift      // hand changes found before applying
	Repaired    []Drift      // drift of objects a repeatable file defines: that file was applied again
	Accepted    []Drift      // other drift, accepted with Options.AcceptDrift (recorded in dbtool.drift_accepted)
	Duration    time.Duration
}

// Changed reports whether Up changed anything.
func (u *UpResult) Changed() bool {
	return len(u.Migrations)+len(u.Repeatables)+len(u.Platform.Applied) > 0
}

// ValidationError lists applied files that were edited or pending files that
// arrive out of order; Up refuses to run past them.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("refusing to migrate:")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s", p)
	}
	return b.String()
}

// Up applies the platform layer, the pending versioned files and the changed
// repeatable files, then notifies PostgREST. Running it again is a no-op.
func (r *Runner) Up(ctx context.Context) (*UpResult, error) {
	start := time.Now()
	res := &UpResult{}
	files, err := r.opts.Project.LoadMigrations()
	if err != nil {
		return nil, err
	}
	reps, err := r.opts.Project.LoadRepeatables()
	if err != nil {
		return nil, err
	}
	r.warmGM(ctx)
	defer func() {
		if r.warmDone != nil {
			<-r.warmDone
		}
		if r.warm != nil {
			r.warm.Close()
			r.warm = nil
		}
	}()
	conn, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := r.lock(ctx, conn); err != nil {
		return nil, err
	}
	defer unlock(ctx, conn)

	if err := ensureLedger(ctx, conn); err != nil {
		return nil, fmt.Errorf("create dbtool ledger: %w", err)
	}
	if !r.opts.SkipPlatform {
		if res.Platform, err = platform.Install(ctx, conn); err != nil {
			return nil, err
		}
		if !res.Platform.Supabase {
			if err := platform.ApplyProfile(ctx, conn, r.opts.Platform); err != nil {
				return nil, fmt.Errorf("platform profile: %w", err)
			}
		}
	}
	st, err := readLedger(ctx, conn)
	if err != nil {
		return nil, err
	}
	stale := false
	if len(st.migrations) > 0 || len(st.repeatables) > 0 {
		if res.Drift, err = r.snapshotDrift(ctx, conn, st); err != nil {
			return nil, err
		}
		if stale, err = snapshotStale(ctx, conn); err != nil {
			return nil, err
		}
		if stale && len(res.Drift) > 0 {
			// A run was interrupted after committing files (killed): its
			// changes and hand changes look alike from here.
			r.opts.Logf("the last run was interrupted after applying files: %d change(s) since the last snapshot cannot be told apart "+
				"from what it applied; taking a new snapshot (run dbtool migrate verify before and after to watch for hand changes)", len(res.Drift))
			res.Drift = nil
		}
	}
	// Drift is never accepted silently: what a repeatable file defines is
	// restored by applying that file again; anything else stops the run
	// unless it is accepted explicitly.
	var unrepairable []Drift
	for _, d := range res.Drift {
		if d.repairable() {
			res.Repaired = append(res.Repaired, d)
			delete(st.repeatables, d.Path) // applied again below
			continue
		}
		unrepairable = append(unrepairable, d)
	}
	if len(unrepairable) > 0 {
		if !r.opts.AcceptDrift {
			return nil, &DriftError{Drift: unrepairable}
		}
		if err := recordAcceptance(ctx, conn, unrepairable); err != nil {
			return nil, err
		}
		res.Accepted = unrepairable
	}

	// golang-migrate's dirty flag, from a failed or killed run.
	if st.gmDirty {
		if res.Recovered, err = r.recoverDirty(ctx, conn, st, files); err != nil {
			return nil, err
		}
		if st, err = readLedger(ctx, conn); err != nil {
			return nil, err
		}
	}
	if err := r.adopt(ctx, conn, &st, files); err != nil {
		return nil, err
	}

	var problems []Problem
	if r.opts.Project.Layout == LayoutSupabase {
		res.Skipped = r.opts.Project.Skipped()
		for _, s := range res.Skipped {
			r.opts.Logf("skipped %s: not <digits>_<name>.sql (the Supabase CLI skips it too)", s)
		}
		adoptProblems, missing, err := r.adoptSupabase(ctx, conn, &st, files)
		if err != nil {
			return nil, err
		}
		problems = append(problems, adoptProblems...)
		res.Missing = append(res.Missing, missing...)
		if err := ensureSupabaseHistory(ctx, conn); err != nil {
			return nil, fmt.Errorf("create the Supabase migration history: %w", err)
		}
	}
	byVersion := map[uint64]Migration{}
	maxApplied := st.maxApplied()
	var pending []Migration
	for _, f := range files {
		byVersion[f.Version] = f
		a, ok := st.migrations[f.Version]
		switch {
		case ok && a.Checksum != f.Checksum:
			problems = append(problems, Problem{Kind: ProblemEdited, Path: f.Path,
				Detail: fmt.Sprintf("applied %s with checksum %s, the file now has %s", a.AppliedAt.Format(time.RFC3339), short(a.Checksum), short(f.Checksum)),
				Hint:   "applied migrations are history: restore the file and put the change in a new migration (dbtool migrate new)"})
		case !ok && f.Version < maxApplied:
			problems = append(problems, Problem{Kind: ProblemOutOfOrder, Path: f.Path,
				Detail: fmt.Sprintf("version %d is older than the last applied version %d", f.Version, maxApplied),
				Hint:   "it was probably merged after newer migrations: give it a new timestamp (rename it to a version above the last applied one)"})
		case !ok:
			pending = append(pending, f)
		}
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	for v, a := range st.migrations {
		if _, ok := byVersion[v]; !ok {
			name := fmt.Sprintf("%d_%s.up.sql", v, a.Name)
			if r.opts.Project.Layout == LayoutSupabase {
				name = fmt.Sprintf("%d_%s.sql", v, a.Name)
			}
			res.Missing = append(res.Missing, name)
		}
	}

	// A failure after some files committed: what they created is dbtool's
	// doing, not drift for the next run.
	failed := func(err error) (*UpResult, error) {
		_ = refreshSnapshot(context.WithoutCancel(ctx), conn)
		return nil, err
	}
	if len(pending) > 0 {
		apply := r.applyVersioned
		if r.opts.Project.Layout == LayoutSupabase {
			apply = r.applyDirect
			if err := r.skipPreinstalled(ctx, conn, pending); err != nil {
				return failed(err)
			}
		}
		// A file may change the session's search_path (pg_dump's and so
		// `supabase db pull`'s files set it to ''); the files after it see
		// that, as on one Supabase CLI connection, but dbtool's own work
		// after them (repeatable files, the snapshot verify compares with)
		// runs with the path the run started with.
		var path string
		if err := conn.QueryRow(ctx, `select pg_catalog.current_setting('search_path')`).Scan(&path); err != nil {
			return nil, err
		}
		err := apply(ctx, conn, files, pending)
		if _, rerr := conn.Exec(context.WithoutCancel(ctx), `select pg_catalog.set_config('search_path', $1, false)`, path); rerr != nil && err == nil {
			err = rerr
		}
		if err != nil {
			return failed(err)
		}
		res.Migrations = pending
	}
	applied, err := r.applyRepeatables(ctx, conn, st, reps)
	if err != nil {
		return failed(err)
	}
	res.Repeatables = applied
	if r.opts.Seed {
		if res.Seeds, err = r.applySeeds(ctx, conn); err != nil {
			return nil, err
		}
	}
	if res.Changed() || len(res.Drift) > 0 || res.Recovered != "" || !st.exists || stale {
		if err := refreshSnapshot(ctx, conn); err != nil {
			return nil, err
		}
	}
	if res.Changed() {
		// PostgREST reloads its schema cache on this notification.
		if _, err := conn.Exec(ctx, `notify pgrst, 'reload schema'`); err != nil {
			return nil, err
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// ledgerSuffix is appended to every versioned file: golang-migrate sends a
// file as one simple-protocol Exec, which PostgreSQL runs as one implicit
// transaction, so the ledger row commits if and only if the file does.
func ledgerSuffix(m Migration) string {
	return fmt.Sprintf("\n;\ninsert into dbtool.migrations (version, name, checksum) values (%d, '%s', '%s') "+
		"on conflict (version) do update set name = excluded.name, checksum = excluded.checksum, applied_at = clock_timestamp();\n",
		m.Version, strings.ReplaceAll(m.Name, "'", "''"), m.Checksum)
}

// gmAppName tags golang-migrate's connection so that this run's statement
// can be cancelled (and told apart from other runs').
func gmAppName() string { return fmt.Sprintf("dbtool migrate gm %d", os.Getpid()) }

// cancelGM cancels the statement golang-migrate is running for this process.
func (r *Runner) cancelGM(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cfg, err := r.connConfig("dbtool migrate cancel")
	if err != nil {
		return
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	_, _ = c.Exec(ctx, `select pg_cancel_backend(pid) from pg_stat_activity
		where datname = current_database() and application_name = $1 and state = 'active'`, gmAppName())
}

// newDriver opens golang-migrate's pgx/v5 driver with dbtool's connection
// settings; its version table is dbtool.schema_migrations.
func (r *Runner) newDriver() (gmdb.Driver, error) {
	db, err := r.gmDB()
	if err != nil {
		return nil, err
	}
	drv, err := gmpgx.WithInstance(db, &gmpgx.Config{MigrationsTable: gmTable, SchemaName: gmSchema, DatabaseName: r.dbName})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("golang-migrate: %w", err)
	}
	return drv, nil
}

// gmDB returns the database handle golang-migrate will use: the one warmed
// up in the background by Up when there is one, else a new one.
func (r *Runner) gmDB() (*sql.DB, error) {
	if r.warm != nil {
		db := r.warm
		r.warm = nil
		return db, nil
	}
	cfg, err := r.connConfig(gmAppName())
	if err != nil {
		return nil, err
	}
	r.dbName = cfg.Database
	return stdlib.OpenDB(*cfg), nil
}

// warmGM opens golang-migrate's connection in the background while dbtool
// prepares its ledger on its own connection (a new backend costs a few
// milliseconds: no need to pay for two in a row).
func (r *Runner) warmGM(ctx context.Context) {
	cfg, err := r.connConfig(gmAppName())
	if err != nil {
		return
	}
	r.dbName = cfg.Database
	db := stdlib.OpenDB(*cfg)
	r.warm = db
	r.warmDone = make(chan struct{})
	go func() {
		defer close(r.warmDone)
		_ = db.PingContext(ctx)
	}()
}

// newGM builds a golang-migrate instance over the given files, each with the
// ledger suffix.
func (r *Runner) newGM(files []Migration) (*gm.Migrate, gmdb.Driver, func(), error) {
	mfs := fstest.MapFS{}
	for _, f := range files {
		// golang-migrate only needs the version from the name; any file
		// name of the project (dots, @, .sql.sql) maps to the same shape.
		mfs[fmt.Sprintf("%d_m.up.sql", f.Version)] = &fstest.MapFile{Data: []byte(f.ExecSQL + r.historySuffix(f)), Mode: 0o644}
	}
	source, err := iofs.New(mfs, ".")
	if err != nil {
		return nil, nil, nil, err
	}
	drv, err := r.newDriver()
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := gm.NewWithInstance("iofs", source, "pgx5", drv)
	if err != nil {
		drv.Close()
		return nil, nil, nil, fmt.Errorf("golang-migrate: %w", err)
	}
	return m, drv, func() { m.Close() }, nil
}

// historySuffix is appended to every versioned file: dbtool's ledger row
// and, in the supabase layout, the Supabase CLI's history row, so both
// commit if and only if the file does.
func (r *Runner) historySuffix(f Migration) string {
	s := ledgerSuffix(f)
	if r.opts.Project.Layout == LayoutSupabase {
		s += supabaseHistoryInsert(f) + ";\n"
	}
	return s
}

// applyVersioned runs golang-migrate over the pending files. On failure the
// file's transaction has rolled back; the dirty version golang-migrate leaves
// behind is reset so the database is exactly as before, and the error names
// the file, line and SQLSTATE.
func (r *Runner) applyVersioned(ctx context.Context, conn *pgx.Conn, all, pending []Migration) error {
	m, drv, closeM, err := r.newGM(all)
	if err != nil {
		return err
	}
	defer closeM()
	// Files marked -- dbtool:no-transaction run here, statement by
	// statement; golang-migrate runs the others up to each of them.
	var batch []Migration
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		last := batch[len(batch)-1].Version
		err := r.runGM(ctx, conn, all, batch, func() error { return m.Migrate(uint(last)) })
		batch = nil
		return err
	}
	for _, p := range pending {
		r.opts.Progress(p.Path)
		if !p.NoTx {
			batch = append(batch, p)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := r.applyNoTx(ctx, conn, p); err != nil {
			return err
		}
		if err := drv.SetVersion(int(p.Version), false); err != nil {
			return fmt.Errorf("record version %d for golang-migrate: %w", p.Version, err)
		}
	}
	return flush()
}

// runGM runs golang-migrate (up to the last of pending). On failure the
// file's transaction has rolled back; the dirty version golang-migrate
// leaves behind is reset so the database is exactly as before, and the
// error names the file, line and SQLSTATE.
func (r *Runner) runGM(ctx context.Context, conn *pgx.Conn, all, pending []Migration, up func() error) error {
	// golang-migrate takes no context: on cancellation (Ctrl-C), cancel its
	// running statement on the server; the file's transaction rolls back.
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			r.cancelGM(context.WithoutCancel(ctx))
		case <-done:
		}
	}()
	upErr := up()
	close(done)
	if upErr == nil || errors.Is(upErr, gm.ErrNoChange) {
		return nil
	}
	interrupted := ctx.Err()
	// Recover even when interrupted, so the database is left as before.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	st, err := readLedger(ctx, conn)
	if err != nil {
		return errors.Join(upErr, err)
	}
	var failed *Migration
	for i := range pending {
		if int64(pending[i].Version) == st.gmVersion {
			failed = &pending[i]
		}
	}
	if st.gmDirty {
		// golang-migrate marks the failed file dirty; the file rolled back,
		// so this is the expected clean-up, not news for the user.
		logf := r.opts.Logf
		r.opts.Logf = func(string, ...any) {}
		_, err := r.recoverDirty(ctx, conn, st, all)
		r.opts.Logf = logf
		if err != nil {
			return errors.Join(upErr, err)
		}
	}
	if interrupted != nil {
		name := "a migration"
		if failed != nil {
			name = failed.Path
		}
		return fmt.Errorf("interrupted while applying %s: its transaction was rolled back: %w", name, interrupted)
	}
	cause := upErr
	var dbErr gmdb.Error
	if errors.As(upErr, &dbErr) && dbErr.OrigErr != nil {
		cause = dbErr.OrigErr
	}
	if failed == nil {
		return fmt.Errorf("golang-migrate: %w", cause)
	}
	return r.fileError(ctx, conn, cause, failed.Path, failed.ExecSQL, nil)
}

// fileError locates a failure in src. When the server gave no position (a
// run-time error), it replays the statements one by one in a transaction
// that is rolled back, after prelude (files applied before it in the same
// transaction), to find the failing statement's line.
func (r *Runner) fileError(ctx context.Context, conn *pgx.Conn, cause error, path, src string, prelude []string) error {
	fe := pgerr.InFile(cause, path, src, 0)
	if fe.Line > 0 || fe.SQLState == "" || strings.HasPrefix(fe.SQLState, "55") || strings.HasPrefix(fe.SQLState, "57") {
		return fe
	}
	_ = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, p := range prelude {
			if _, err := tx.Exec(ctx, p); err != nil {
				return err
			}
		}
		for _, stmt := range sqlscan.Split(src) {
			if _, err := tx.Exec(ctx, "savepoint dbtool_locate"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, stmt.SQL); err != nil {
				if pgerr.SQLState(err) == fe.SQLState {
					located := pgerr.InFile(err, path, src, stmt.Offset)
					if located.Line == 0 {
						located.Line = stmt.Line
					}
					fe = located
				}
				return errLocated
			}
		}
		return errLocated
	})
	return fe
}

var errLocated = errors.New("located (rolled back)")

// waitOrphans waits (up to LockTimeout) until no session holds
// golang-migrate's advisory lock. dbtool holds its own lock, so a holder is a
// run that was killed while its file was still executing on the server.
func (r *Runner) waitOrphans(ctx context.Context, conn *pgx.Conn) error {
	var db string
	if err := conn.QueryRow(ctx, "select current_database()").Scan(&db); err != nil {
		return err
	}
	key, _ := gmdb.GenerateAdvisoryLockId(db, gmSchema, gmTable)
	start := time.Now()
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "select pg_try_advisory_lock($1::bigint)", key).Scan(&ok); err != nil {
			return err
		}
		if ok {
			_, err := conn.Exec(ctx, "select pg_advisory_unlock($1::bigint)", key)
			return err
		}
		if time.Since(start) > r.opts.LockTimeout {
			return &LockedError{Waited: time.Since(start), Holder: "a killed run's migration is still executing on the server; wait for it to finish"}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recoverDirty resolves golang-migrate's dirty flag. dbtool records each
// file in its ledger inside the file's own transaction, so the ledger says
// for certain whether the dirty version committed or rolled back.
func (r *Runner) recoverDirty(ctx context.Context, conn *pgx.Conn, st ledgerState, files []Migration) (string, error) {
	// A killed run's file may still be executing on the server (PostgreSQL
	// only notices a dead client when it next talks to it). Its backend holds
	// golang-migrate's lock until the file commits or rolls back: wait for
	// that, then read the ledger, which is final from then on.
	if err := r.waitOrphans(ctx, conn); err != nil {
		return "", err
	}
	st, err := readLedger(ctx, conn)
	if err != nil {
		return "", err
	}
	if !st.gmDirty {
		return "", nil
	}
	v := uint64(st.gmVersion)
	var target int64 = -1
	var msg string
	if _, ok := st.migrations[v]; ok {
		target = int64(v)
		msg = fmt.Sprintf("golang-migrate had marked version %d dirty; dbtool's ledger shows it committed: marked clean", v)
	} else {
		for a := range st.migrations {
			if a < v && int64(a) > target {
				target = int64(a)
			}
		}
		msg = fmt.Sprintf("golang-migrate had marked version %d dirty; dbtool's ledger shows its transaction rolled back (nothing of it remains): "+
			"reset to version %d, it will be applied again", v, target)
	}
	drv, err := r.newDriver()
	if err != nil {
		return "", err
	}
	defer drv.Close()
	if target < 0 {
		target = int64(gmdb.NilVersion)
	}
	if err := drv.SetVersion(int(target), false); err != nil {
		return "", fmt.Errorf("reset golang-migrate's dirty version %d: %w (by hand: "+
			"update dbtool.schema_migrations set version = %d, dirty = false)", v, err, target)
	}
	r.opts.Logf("%s", msg)
	return msg, nil
}

// adopt reconciles the ledger with golang-migrate's version row: files at or
// below a clean version that dbtool has no record of were applied by
// golang-migrate alone (a project moving to dbtool); they are recorded as
// applied with their current checksum.
func (r *Runner) adopt(ctx context.Context, conn *pgx.Conn, st *ledgerState, files []Migration) error {
	if st.gmDirty || st.gmVersion < 0 {
		return nil
	}
	for _, f := range files {
		if int64(f.Version) > st.gmVersion {
			break
		}
		if _, ok := st.migrations[f.Version]; ok {
			continue
		}
		if _, err := conn.Exec(ctx, `insert into dbtool.migrations (version, name, checksum) values ($1, $2, $3)`, int64(f.Version), f.Name, f.Checksum); err != nil {
			return err
		}
		st.migrations[f.Version] = appliedMigration{Version: f.Version, Name: f.Name, Checksum: f.Checksum, AppliedAt: time.Now()}
		r.opts.Logf("recorded %s as applied (golang-migrate's version %d includes it)", f.Path, st.gmVersion)
	}
	return nil
}

// applyRepeatables applies the changed procedure files in one transaction,
// then the changed policy files in another.
func (r *Runner) applyRepeatables(ctx context.Context, conn *pgx.Conn, st ledgerState, reps []Repeatable) ([]Repeatable, error) {
	var applied []Repeatable
	for _, kind := range []string{KindProcedure, KindPolicy} {
		var changed []Repeatable
		for _, f := range reps {
			if f.Kind != kind {
				continue
			}
			if a, ok := st.repeatables[f.Path]; ok && a.Checksum == f.Checksum {
				continue
			}
			changed = append(changed, f)
		}
		if len(changed) == 0 {
			continue
		}
		var failed *Repeatable
		var failErr error
		var prelude []string
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			for i, f := range changed {
				r.opts.Progress(f.Path)
				if _, err := tx.Exec(ctx, f.SQL); err != nil {
					failed, failErr = &changed[i], err
					return err
				}
				prelude = append(prelude, f.SQL)
				if _, err := tx.Exec(ctx, `insert into dbtool.repeatables (path, kind, checksum, content) values ($1, $2, $3, $4)
					on conflict (path) do update set kind = excluded.kind, checksum = excluded.checksum, content = excluded.content, applied_at = clock_timestamp()`,
					f.Path, f.Kind, f.Checksum, f.SQL); err != nil {
					return err
				}
			}
			return nil
		})
		if failed != nil {
			return nil, r.fileError(ctx, conn, failErr, failed.Path, failed.SQL, prelude)
		}
		if err != nil {
			return nil, err
		}
		applied = append(applied, changed...)
	}
	return applied, nil
}

// DriftError: objects changed outside dbtool that no repeatable file
// restores (grants, RLS switches, objects no file defines). Nothing was
// applied.
type DriftError struct {
	Drift []Drift
}

func (e *DriftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refusing to migrate: %d change(s) made outside dbtool that no file restores:", len(e.Drift))
	for _, d := range e.Drift {
		fmt.Fprintf(&b, "\n  %s", d.Describe())
	}
	b.WriteString("\n  hint: put each change into a migration (or undo it by hand); to keep the database as it is, " +
		"run dbtool migrate up --accept-drift (recorded in dbtool.drift_accepted)")
	return b.String()
}

// recordAcceptance records who accepted which drift, and when.
func recordAcceptance(ctx context.Context, conn *pgx.Conn, ds []Drift) error {
	var items []string
	for _, d := range ds {
		items = append(items, d.Describe())
	}
	who := os.Getenv("USER")
	_, err := conn.Exec(ctx, `create table if not exists dbtool.drift_accepted (
		  accepted_at timestamptz not null default now(), db_user name not null default current_user, os_user text, changes text[] not null);
		`)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `insert into dbtool.drift_accepted (os_user, changes) values (nullif($1, ''), $2)`, who, items)
	return err
}

// snapshotStale: there is no snapshot yet, or a file was recorded after
// the last one (a run was killed between applying files and taking its
// snapshot).
func snapshotStale(ctx context.Context, conn *pgx.Conn) (bool, error) {
	var stale bool
	err := conn.QueryRow(ctx, `select not exists (select 1 from dbtool.snapshot) or coalesce(
		  (select max(applied_at) from dbtool.migrations) > (select max(taken_at) from dbtool.snapshot)
		  or (select max(applied_at) from dbtool.repeatables) > (select max(taken_at) from dbtool.snapshot), false)`).Scan(&stale)
	return stale, err
}

// applyDirect applies the pending files of a Supabase-layout project on
// dbtool's own connection, one round trip per file: the file, its ledger
// row and its Supabase history row in one implicit transaction (the
// Supabase CLI's own unit), so a failed or killed file leaves nothing.
// golang-migrate's version is set once at the end (its two extra
// transactions per file made up most of the cost); dbtool's ledger is what
// says which files are applied.
func (r *Runner) applyDirect(ctx context.Context, conn *pgx.Conn, all, pending []Migration) error {
	for _, p := range pending {
		r.opts.Progress(p.Path)
		if p.NoTx {
			if err := r.applyNoTx(ctx, conn, p); err != nil {
				return err
			}
			continue
		}
		if _, err := conn.Exec(ctx, p.ExecSQL+r.historySuffix(p), pgx.QueryExecModeSimpleProtocol); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted while applying %s: its transaction was rolled back: %w", p.Path, ctx.Err())
			}
			return r.fileError(context.WithoutCancel(ctx), conn, err, p.Path, p.ExecSQL, nil)
		}
	}
	drv, err := r.newDriver()
	if err != nil {
		return err
	}
	defer drv.Close()
	if err := drv.SetVersion(int(pending[len(pending)-1].Version), false); err != nil {
		return fmt.Errorf("record version %d for golang-migrate: %w", pending[len(pending)-1].Version, err)
	}
	return nil
}
