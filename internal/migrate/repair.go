package migrate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Repair accepts, after review, applied files that were edited since: their
// recorded checksum (and, in the supabase layout, their recorded
// statements) becomes the file's current one, and who and when is recorded
// in dbtool.repairs. The edit itself is not applied: what the file now says
// differently must be made true by a new migration, or be a change that
// does not alter the database (a comment, whitespace). paths are relative
// to the project folder (or to the current directory).
func (r *Runner) Repair(ctx context.Context, paths []string) ([]string, error) {
	files, err := r.opts.Project.LoadMigrations()
	if err != nil {
		return nil, err
	}
	byPath := map[string]Migration{}
	for _, f := range files {
		byPath[f.Path] = f
		byPath[filepath.Base(f.Path)] = f
	}
	conn, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := r.lock(ctx, conn); err != nil {
		return nil, err
	}
	defer unlock(ctx, conn)
	st, err := readLedger(ctx, conn)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range paths {
		f, ok := byPath[filepath.ToSlash(p)]
		if !ok {
			f, ok = byPath[filepath.Base(p)]
		}
		if !ok {
			return out, &ProjectError{Path: p, Problem: "not a migration file of this project"}
		}
		a, applied := st.migrations[f.Version]
		if !applied {
			return out, &ProjectError{Path: f.Path, Problem: "not applied: there is nothing to repair", Hint: "dbtool migrate up applies it"}
		}
		if a.Checksum == f.Checksum {
			out = append(out, f.Path+": unchanged since it was applied, nothing to repair")
			continue
		}
		who := os.Getenv("USER")
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `create table if not exists dbtool.repairs (
				version bigint not null, path text not null, old_checksum text not null, new_checksum text not null,
				repaired_at timestamptz not null default now(), db_user name not null default current_user, os_user text)`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `insert into dbtool.repairs (version, path, old_checksum, new_checksum, os_user) values ($1, $2, $3, $4, nullif($5, ''))`,
				int64(f.Version), f.Path, a.Checksum, f.Checksum, who); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `update dbtool.migrations set checksum = $2 where version = $1`, int64(f.Version), f.Checksum); err != nil {
				return err
			}
			if r.opts.Project.Layout == LayoutSupabase {
				if _, err := tx.Exec(ctx, `update supabase_migrations.schema_migrations set statements = $2 where version = $1`, f.VersionText, f.Statements); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		by := "by " + strings.TrimSpace(who)
		if who == "" {
			by = "by the database user"
		}
		out = append(out, fmt.Sprintf("%s: accepted as edited (checksum %s -> %s), %s; recorded in dbtool.repairs", f.Path, short(a.Checksum), short(f.Checksum), by))
	}
	return out, nil
}
