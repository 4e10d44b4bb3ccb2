package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/pgerr"
	"github.com/dbtool-dev/dbtool/internal/sqlscan"
)

// The Supabase CLI's history, kept exactly as the CLI creates, reads and
// writes it (supabase/cli pkg/migration/history.go), so that `supabase
// migration list` and `supabase db push` keep working on a database dbtool
// migrated, and dbtool adopts a database the CLI migrated.
const supabaseHistorySQL = `
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
alter table supabase_migrations.schema_migrations add column if not exists statements text[];
alter table supabase_migrations.schema_migrations add column if not exists name text;
create table if not exists supabase_migrations.seed_files (path text not null primary key, hash text not null);
`

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// supabaseHistoryInsert is the CLI's INSERT for one file, as literal SQL
// (it runs inside the file's own transaction).
func supabaseHistoryInsert(f Migration) string {
	items := make([]string, len(f.Statements))
	for i, s := range f.Statements {
		items[i] = sqlQuote(s)
	}
	arr := "'{}'::text[]"
	if len(items) > 0 {
		arr = "array[" + strings.Join(items, ", ") + "]::text[]"
	}
	return fmt.Sprintf("insert into supabase_migrations.schema_migrations (version, name, statements) values (%s, %s, %s)",
		sqlQuote(f.VersionText), sqlQuote(f.Name), arr)
}

func ensureSupabaseHistory(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, supabaseHistorySQL)
	return err
}

// supabaseHistory reads the CLI's history: version -> statements. ok is
// false when the table does not exist.
func supabaseHistory(ctx context.Context, conn *pgx.Conn) (map[string][]string, bool, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `select to_regclass('supabase_migrations.schema_migrations') is not null`).Scan(&exists); err != nil || !exists {
		return nil, false, err
	}
	var hasStatements bool
	if err := conn.QueryRow(ctx, `select exists (select 1 from pg_attribute where attrelid = 'supabase_migrations.schema_migrations'::regclass
		and attname = 'statements' and not attisdropped)`).Scan(&hasStatements); err != nil {
		return nil, false, err
	}
	q := `select version, statements from supabase_migrations.schema_migrations`
	if !hasStatements {
		q = `select version, null::text[] from supabase_migrations.schema_migrations`
	}
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, false, err
	}
	out := map[string][]string{}
	for rows.Next() {
		var v string
		var st []string
		if err := rows.Scan(&v, &st); err != nil {
			rows.Close()
			return nil, false, err
		}
		out[v] = st
	}
	return out, true, rows.Err()
}

// adoptSupabase takes over a database the Supabase CLI migrated: files whose
// version the CLI recorded are applied (recorded in dbtool's ledger with
// their checksum, never run again), unless the file's statements differ
// from what the CLI recorded: then the file was edited after it was applied.
// golang-migrate's version moves up to the last adopted version.
func (r *Runner) adoptSupabase(ctx context.Context, conn *pgx.Conn, st *ledgerState, files []Migration) ([]Problem, []string, error) {
	hist, ok, err := supabaseHistory(ctx, conn)
	if err != nil || !ok {
		return nil, nil, err
	}
	var problems []Problem
	var missing []string
	var adopted uint64
	known := map[string]bool{}
	for _, f := range files {
		known[f.VersionText] = true
		recorded, ok := hist[f.VersionText]
		if !ok {
			continue
		}
		if _, mine := st.migrations[f.Version]; mine {
			if f.Version > adopted {
				adopted = f.Version
			}
			continue
		}
		if recorded != nil && !equalStrings(recorded, f.Statements) {
			problems = append(problems, Problem{Kind: ProblemEdited, Path: f.Path,
				Detail: "applied by the Supabase CLI with other statements: " + firstDifference(recorded, f.Statements),
				Hint:   "applied migrations are history: restore the file (supabase migration fetch rebuilds it from the history) and put the change in a new migration"})
			continue
		}
		if _, err := conn.Exec(ctx, `insert into dbtool.migrations (version, name, checksum) values ($1, $2, $3)`, int64(f.Version), f.Name, f.Checksum); err != nil {
			return nil, nil, err
		}
		st.migrations[f.Version] = appliedMigration{Version: f.Version, Name: f.Name, Checksum: f.Checksum, AppliedAt: time.Now()}
		r.opts.Logf("adopted %s (the Supabase CLI applied it)", f.Path)
		if f.Version > adopted {
			adopted = f.Version
		}
	}
	for v := range hist {
		if !known[v] {
			missing = append(missing, v+" (in supabase_migrations.schema_migrations)")
		}
	}
	sort.Strings(missing)
	if adopted > 0 && !st.gmDirty && st.gmVersion < int64(adopted) {
		drv, err := r.newDriver()
		if err != nil {
			return nil, nil, err
		}
		defer drv.Close()
		if err := drv.SetVersion(int(adopted), false); err != nil {
			return nil, nil, fmt.Errorf("record version %d for golang-migrate: %w", adopted, err)
		}
		st.gmVersion = int64(adopted)
	}
	return problems, missing, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstDifference(recorded, now []string) string {
	for i := 0; i < len(recorded) && i < len(now); i++ {
		if recorded[i] != now[i] {
			return fmt.Sprintf("statement %d was %q, is now %q", i+1, clip(recorded[i]), clip(now[i]))
		}
	}
	return fmt.Sprintf("%d statements recorded, %d in the file", len(recorded), len(now))
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// NoTxError is a failure in a -- dbtool:no-transaction file: the statements
// before the failing one ran and stay (there is no transaction to roll
// back); the next migrate up resumes at the failing statement.
type NoTxError struct {
	File    *pgerr.FileError
	Done    int // statements that ran
	Total   int
	Resumes bool
}

func (e *NoTxError) Error() string {
	return fmt.Sprintf("%s\n  %d of %d statements of this no-transaction file ran before it and are kept; "+
		"fix statement %d and run `dbtool migrate up` again: it resumes there (the statements before it are not run again)",
		e.File.Error(), e.Done, e.Total, e.Done+1)
}

func (e *NoTxError) Unwrap() error { return e.File }

// applyNoTx runs a -- dbtool:no-transaction file statement by statement,
// outside a transaction, then records it (ledger, golang-migrate's version
// and the Supabase history) in one transaction. Progress is kept in
// dbtool.progress so a failed run resumes at the failing statement.
func (r *Runner) applyNoTx(ctx context.Context, conn *pgx.Conn, f Migration) error {
	if _, err := conn.Exec(ctx, `create table if not exists dbtool.progress (
		version bigint primary key, done integer not null, statements text[] not null, updated_at timestamptz not null default now())`); err != nil {
		return err
	}
	stmts := sqlscan.Split(f.ExecSQL)
	texts := make([]string, len(stmts))
	for i, s := range stmts {
		texts[i] = s.SQL
	}
	var done int
	var doneSQL []string
	err := conn.QueryRow(ctx, `select done, statements from dbtool.progress where version = $1`, int64(f.Version)).Scan(&done, &doneSQL)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if done > 0 {
		if done > len(texts) || !equalStrings(doneSQL, texts[:done]) {
			return &ProjectError{Path: f.Path, Problem: fmt.Sprintf("a previous run applied its first %d statements, which the file no longer has as they were", done),
				Hint: "restore those statements (they ran and cannot run again), or undo their effect by hand and run: delete from dbtool.progress where version = " + f.VersionText}
		}
		r.opts.Logf("resuming %s at statement %d of %d", f.Path, done+1, len(texts))
	}
	for i := done; i < len(stmts); i++ {
		if _, err := conn.Exec(ctx, stmts[i].SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			if _, perr := conn.Exec(context.WithoutCancel(ctx), `insert into dbtool.progress (version, done, statements) values ($1, $2, $3)
				on conflict (version) do update set done = excluded.done, statements = excluded.statements, updated_at = now()`,
				int64(f.Version), i, texts[:i]); perr != nil {
				return errors.Join(err, perr)
			}
			fe := pgerr.InFile(err, f.Path, f.ExecSQL, stmts[i].Offset)
			if fe.Line == 0 {
				fe.Line = stmts[i].Line
			}
			return &NoTxError{File: fe, Done: i, Total: len(stmts)}
		}
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		record := ledgerSuffix(f)
		if r.opts.Project.Layout == LayoutSupabase {
			record += supabaseHistoryInsert(f) + ";\n"
		}
		record += fmt.Sprintf("delete from dbtool.progress where version = %d;\n", f.Version)
		_, err := tx.Exec(ctx, record, pgx.QueryExecModeSimpleProtocol)
		return err
	})
}

// SeedResult is what applySeeds did per file.
type SeedResult struct {
	Path  string `json:"path"`
	State string `json:"state"` // applied, unchanged, changed (the Supabase CLI does not run a changed seed again: its new hash is recorded)
}

// applySeeds applies the project's seed files that the database has not
// seen (supabase_migrations.seed_files, sha256 of the content), each in one
// transaction with its row, as the Supabase CLI does. A seed whose content
// changed is not run again (it already inserted its rows): its new hash is
// recorded, and the result says so.
func (r *Runner) applySeeds(ctx context.Context, conn *pgx.Conn) ([]SeedResult, error) {
	p := r.opts.Project.withDefaults()
	var paths []string
	for _, g := range p.Seeds {
		matches, err := filepath.Glob(p.abs(g))
		if err != nil {
			return nil, &ProjectError{Path: g, Problem: "not a valid glob: " + err.Error()}
		}
		sort.Strings(matches)
		for _, m := range matches {
			rel, _ := filepath.Rel(p.Dir, m)
			paths = append(paths, filepath.ToSlash(rel))
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	if err := ensureSupabaseHistory(ctx, conn); err != nil {
		return nil, err
	}
	seen := map[string]string{}
	rows, err := conn.Query(ctx, `select path, hash from supabase_migrations.seed_files`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var path, hash string
		if err := rows.Scan(&path, &hash); err != nil {
			rows.Close()
			return nil, err
		}
		seen[path] = hash
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []SeedResult
	for _, path := range paths {
		b, err := os.ReadFile(p.abs(path))
		if err != nil {
			return out, err
		}
		sum := sha256.Sum256(b)
		hash := hex.EncodeToString(sum[:])
		prev, ok := seen[path]
		switch {
		case ok && prev == hash:
			out = append(out, SeedResult{Path: path, State: "unchanged"})
			continue
		case ok:
			if _, err := conn.Exec(ctx, `update supabase_migrations.seed_files set hash = $2 where path = $1`, path, hash); err != nil {
				return out, err
			}
			r.opts.Logf("seed %s changed since it was applied: not run again (its rows exist), new hash recorded", path)
			out = append(out, SeedResult{Path: path, State: "changed"})
			continue
		}
		r.opts.Logf("seeding %s", path)
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(b), pgx.QueryExecModeSimpleProtocol); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `insert into supabase_migrations.seed_files (path, hash) values ($1, $2)
				on conflict (path) do update set hash = excluded.hash`, path, hash)
			return err
		})
		if err != nil {
			return out, pgerr.InFile(err, path, string(b), 0)
		}
		out = append(out, SeedResult{Path: path, State: "applied"})
	}
	return out, nil
}
