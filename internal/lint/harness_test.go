package lint

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
	"github.com/dbtool-dev/dbtool/internal/platform"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// newDB returns a connection (as superuser, the owner of everything) to a
// fresh database with dbtool's platform layer: API roles, auth.users,
// auth.uid().
func newDB(tb testing.TB) (*pgx.Conn, string) {
	tb.Helper()
	ctx := context.Background()
	url := pgtest.EmptyDatabase(tb)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "create schema dbtool"); err != nil {
		tb.Fatal(err)
	}
	if _, err := platform.Install(ctx, conn); err != nil {
		tb.Fatal(err)
	}
	return conn, url
}

// execSQL runs a script of several statements (simple protocol).
func execSQL(tb testing.TB, conn *pgx.Conn, sql string) {
	tb.Helper()
	if _, err := conn.PgConn().Exec(context.Background(), sql).ReadAll(); err != nil {
		tb.Fatalf("fixture: %v\n%s", err, sql)
	}
}

func lintRun(tb testing.TB, conn *pgx.Conn, opts Options) Result {
	tb.Helper()
	res, err := Run(context.Background(), conn, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// find returns the findings of rule on object.
func find(fs []Finding, rule, object string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Rule == rule && (object == "" || f.Key() == object) {
			out = append(out, f)
		}
	}
	return out
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n  " + f.Level + " " + f.Rule + " " + f.Object + " (" + f.ObjectType + "): " + f.Detail)
	}
	return b.String()
}
