package migrate

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/sqlscan"
	"github.com/dbtool-dev/dbtool/internal/sqltree"
)

// supabasePreinstalled are the extensions every hosted Supabase project has
// installed before its first migration and that exist only in Supabase's
// image (no Debian package). `supabase db pull` writes
// `create extension if not exists` for each into remote_schema.sql, where
// on Supabase they do nothing.
var supabasePreinstalled = []string{"pg_graphql", "pgsodium", "supabase_vault"}

// skipPreinstalled blanks, in the Supabase layout, each
// `create extension if not exists X` of the pending files whose X hosted
// Supabase has installed already and this server cannot install: on
// Supabase the statement does nothing, here it would stop the file. Each
// one is reported; lines and offsets stay where they were, and the Supabase
// history keeps the statement.
func (r *Runner) skipPreinstalled(ctx context.Context, conn *pgx.Conn, pending []Migration) error {
	var lacking []string
	if err := conn.QueryRow(ctx, `select coalesce(array_agg(e), '{}') from unnest($1::text[]) e
		where not exists (select 1 from pg_catalog.pg_available_extensions a where a.name = e)`, supabasePreinstalled).Scan(&lacking); err != nil {
		return err
	}
	if len(lacking) == 0 {
		return nil
	}
	missing := map[string]bool{}
	for _, e := range lacking {
		missing[e] = true
	}
	for i := range pending {
		p := &pending[i]
		var b []byte
		for _, st := range sqlscan.Split(p.ExecSQL) {
			if w := sqlscan.FirstWords(st.SQL, 2); len(w) < 2 || w[0] != "create" || w[1] != "extension" {
				continue
			}
			ext, ok := sqltree.CreateExtensionIfNotExists(st.SQL)
			if !ok || !missing[ext] {
				continue
			}
			if b == nil {
				b = []byte(p.ExecSQL)
			}
			blank(b, st.Offset, len(st.SQL))
			r.opts.Logf("%s:%d: skipped `create extension if not exists %s`: every hosted Supabase project has it installed, so there it does nothing; "+
				"this server has no %s (it exists only in Supabase's image), so statements that use it will fail here", p.Path, st.Line, ext, ext)
		}
		if b != nil {
			p.ExecSQL = string(b)
		}
	}
	return nil
}

// blank replaces n bytes of b from off with spaces, keeping line breaks.
func blank(b []byte, off, n int) {
	for k := off; k < off+n; k++ {
		if b[k] != '\n' {
			b[k] = ' '
		}
	}
}
