package pgtap_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/pgtap"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// BenchmarkPgTAPPhases: where one file's time goes, one step at a time on
// the benchmark's suite (ms per file): cloning the pgTAP template
// (FILE_COPY, WAL_LOG) and dropping that clone, a pgx connection, the
// per-clone setup (ALTER DATABASE search_path), psql through Debian's
// pg_wrapper and directly (select 1; then the file), putting sequences
// back with setval.
func BenchmarkPgTAPPhases(b *testing.B) {
	ctx := context.Background()
	dir := suite(b, 1)
	srv := pgtest.Server(b)
	tpl, err := dbtest.PrepareTemplate(ctx, srv.URL, dbtest.Project{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	base, err := pgtap.Template(ctx, srv.URL, tpl.Name)
	if err != nil {
		b.Fatal(err)
	}
	files, _ := pgtap.Discover(dir)
	src, _ := os.ReadFile(filepath.Join(dir, files[0]))
	file := "set search_path to \"$user\", public, extensions;\n" + string(src)
	admin, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	timed := func(acc *time.Duration, fn func() error) {
		t0 := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		*acc += time.Since(t0)
	}
	exec1 := func(conn *pgx.Conn, sql string) func() error {
		return func() error { _, err := conn.Exec(ctx, sql); return err }
	}
	psql := func(bin, url, sql string) func() error {
		return func() error {
			cmd := exec.Command(bin, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-")
			cmd.Stdin = strings.NewReader(sql)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "ok 12") {
				b.Fatalf("psql: %v %s", err, out)
			}
			return nil
		}
	}
	wrapper, direct := "psql", pgtap.PsqlBinary()
	var pgtapCreate, fileCopy, walLog, dropFC, dropWL, connect, alterDB, wrapNoop, realNoop, wrapFile, realFile, setval time.Duration
	n := 0
	for b.Loop() {
		n++
		a, c := pgtest.RandomName("dbtool_prof_"), pgtest.RandomName("dbtool_prof_")
		timed(&fileCopy, exec1(admin, "create database "+a+" template "+base+" strategy file_copy"))
		timed(&walLog, exec1(admin, "create database "+c+" template "+base+" strategy wal_log"))
		u := pgtest.WithDatabase(srv.URL, c)
		{
			// pgTAP's creation, paid once per run by the pgTAP template.
			p := pgtest.RandomName("dbtool_prof_")
			if err := exec1(admin, "create database "+p+" template "+tpl.Name+" strategy file_copy")(); err != nil {
				b.Fatal(err)
			}
			pc, err := pgx.Connect(ctx, pgtest.WithDatabase(srv.URL, p))
			if err != nil {
				b.Fatal(err)
			}
			timed(&pgtapCreate, exec1(pc, "create extension pgtap with schema extensions"))
			pc.Close(ctx)
			exec1(admin, "drop database "+p+" with (force)")()
		}
		var conn *pgx.Conn
		timed(&connect, func() (err error) { conn, err = pgx.Connect(ctx, u); return })
		timed(&alterDB, exec1(conn, "alter database "+c+` set search_path to "$user", public, extensions`))
		timed(&realNoop, psql(direct, u, "select 'ok 12';"))
		timed(&wrapNoop, psql(wrapper, u, "select 'ok 12';"))
		timed(&realFile, psql(direct, u, file))
		timed(&wrapFile, psql(wrapper, u, file))
		timed(&setval, exec1(conn, "select setval('public.items_id_seq', 1, false)"))
		conn.Close(ctx)
		timed(&dropFC, exec1(admin, "drop database "+a+" with (force)"))
		timed(&dropWL, exec1(admin, "drop database "+c+" with (force)"))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	b.ReportMetric(ms(pgtapCreate), "create_pgtap_ms")
	b.ReportMetric(ms(fileCopy), "clone_file_copy_ms")
	b.ReportMetric(ms(walLog), "clone_wal_log_ms")
	b.ReportMetric(ms(dropFC), "drop_file_copy_ms")
	b.ReportMetric(ms(dropWL), "drop_wal_log_ms")
	b.ReportMetric(ms(connect), "pgx_connect_ms")
	b.ReportMetric(ms(alterDB), "alter_database_ms")
	b.ReportMetric(ms(wrapNoop), "psql_wrapper_select1_ms")
	b.ReportMetric(ms(realNoop), "psql_select1_ms")
	b.ReportMetric(ms(wrapFile), "psql_wrapper_file_ms")
	b.ReportMetric(ms(realFile), "psql_file_ms")
	b.ReportMetric(ms(setval), "setval_ms")
}
