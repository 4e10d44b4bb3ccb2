package pgtap_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/pgtap"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// suite writes a project with a table and n pgTAP files shaped like a
// Supabase project's: a dozen assertions on the schema, rows, a role switch.
func suite(tb testing.TB, n int) string {
	dir := tb.TempDir()
	write := writer(tb, dir)
	write("migrations/20260101000000_items.up.sql", `create table public.items (id bigint generated always as identity primary key, n int not null);
alter table public.items enable row level security;
grant select, insert on public.items to authenticated;
create policy items_all on public.items for all to authenticated using (true) with check (true);
`)
	for i := 0; i < n; i++ {
		write(fmt.Sprintf("tests/%02d_items.sql", i), fmt.Sprintf(`begin;
select plan(12);
select has_table('public', 'items', 'items exists %[1]d');
select has_column('public', 'items', 'n', 'items.n exists');
select col_not_null('public', 'items', 'n', 'n is required');
select policies_are('public', 'items', array['items_all'], 'one policy');
insert into public.items (n) select g from generate_series(1, 500) g;
select is((select count(*) from public.items)::int, 500, 'rows');
select is((select sum(n) from public.items)::bigint, 125250::bigint, 'sum');
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "00000000-0000-0000-0000-000000000001", "role": "authenticated"}', true);
select is((select count(*) from public.items)::int, 500, 'authenticated reads');
select lives_ok($$ insert into public.items (n) values (1) $$, 'authenticated inserts');
reset role;
select throws_ok($$ insert into public.items (n) values (null) $$, '23502', null, 'n is not null');
select results_eq($$ select n from public.items where n <= 3 order by n $$, $$ values (1), (1), (2), (3) $$, 'first rows');
select ok(exists (select 1 from pg_policies where tablename = 'items'), 'policies listed');
select cmp_ok((select max(n) from public.items), '=', 500, 'max');
select * from finish();
rollback;
`, i))
	}
	return dir
}

// BenchmarkPgTAPvsPgProve: 20 files, dbtool test's runner (one worker per
// core, each file isolated: see pgtap.Run) against pg_prove running the
// same files one after another on one database, in one run. Target: at
// least 1.8x faster (speedup). pg_prove runs psql from PATH as its users
// do (on Debian, the pg_wrapper script); speedup_same_psql compares with
// pg_prove --psql-bin set to the psql binary dbtool runs, so the gain that
// is not psql's start-up is visible too.
func BenchmarkPgTAPvsPgProve(b *testing.B) {
	pgProve, err := exec.LookPath("pg_prove")
	if err != nil {
		b.Skip("pg_prove not installed (Debian: libtap-parser-sourcehandler-pgtap-perl)")
	}
	ctx := context.Background()
	dir := suite(b, 20)
	srv := pgtest.Server(b)
	tpl, err := dbtest.PrepareTemplate(ctx, srv.URL, dbtest.Project{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	files, err := pgtap.Discover(dir)
	if err != nil || len(files) != 20 {
		b.Fatalf("discover: %v %d", err, len(files))
	}
	base, err := pgtap.Template(ctx, srv.URL, tpl.Name)
	if err != nil {
		b.Fatal(err)
	}
	// pg_prove's database: one clone of the same pgTAP template, reused
	// for every file (each file rolls back).
	name := pgtest.RandomName("dbtool_prove_")
	if err := pgtest.AdminExec(ctx, srv.URL, "create database "+name+" template "+base); err != nil {
		b.Fatal(err)
	}
	if err := pgtest.AdminExec(ctx, srv.URL, "alter database "+name+` set search_path to "$user", public, extensions`); err != nil {
		b.Fatal(err)
	}
	proveURL := pgtest.WithDatabase(srv.URL, name)
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(dir, f))
	}
	prove := func(args ...string) time.Duration {
		t0 := time.Now()
		cmd := exec.Command(pgProve, append(args, paths...)...)
		cmd.Env = append(os.Environ(), pgEnv(b, proveURL)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pg_prove: %v\n%s", err, out)
		}
		return time.Since(t0)
	}
	var dbtoolTime, proveTime, proveSameTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		res := pgtap.Run(ctx, files, pgtap.Options{Dir: dir, Workers: runtime.NumCPU(), Server: srv.URL, Template: base})
		dbtoolTime += time.Since(t0)
		for _, f := range res {
			if f.Failed() || len(f.Tests) != 12 {
				b.Fatalf("%s failed: %s %+v", f.Path, f.Error, f.Tests)
			}
		}
		proveTime += prove()
		proveSameTime += prove("--psql-bin", pgtap.PsqlBinary())
	}
	b.ReportMetric(dbtoolTime.Seconds()/float64(b.N), "dbtool_s/op")
	b.ReportMetric(proveTime.Seconds()/float64(b.N), "pg_prove_s/op")
	b.ReportMetric(proveSameTime.Seconds()/float64(b.N), "pg_prove_same_psql_s/op")
	b.ReportMetric(proveTime.Seconds()/dbtoolTime.Seconds(), "speedup")
	b.ReportMetric(proveSameTime.Seconds()/dbtoolTime.Seconds(), "speedup_same_psql")
}

// pgEnv: libpq's variables for url (pg_prove passes no URL to psql).
func pgEnv(tb testing.TB, raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return []string{"PGHOST=" + u.Hostname(), "PGPORT=" + u.Port(), "PGUSER=" + u.User.Username(), "PGDATABASE=" + strings.TrimPrefix(u.Path, "/")}
}

// BenchmarkPgTAPOwnClones: the same 20 files with a statement before their
// BEGIN, so that each may commit: each runs on a fresh clone of the one
// before (pg_prove's order), with either strategy of CREATE DATABASE.
func BenchmarkPgTAPOwnClones(b *testing.B) {
	ctx := context.Background()
	dir := suite(b, 20)
	files, err := pgtap.Discover(dir)
	if err != nil || len(files) != 20 {
		b.Fatalf("discover: %v %d", err, len(files))
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		src, _ := os.ReadFile(p)
		// A statement before BEGIN: the file may commit, as far as the
		// runner can tell, so it gets a fresh clone, and the next file a
		// clone of that one.
		s := "select 'setup';\n" + string(src)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	srv := pgtest.Server(b)
	tpl, err := dbtest.PrepareTemplate(ctx, srv.URL, dbtest.Project{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	base, err := pgtap.Template(ctx, srv.URL, tpl.Name)
	if err != nil {
		b.Fatal(err)
	}
	for _, strategy := range []string{"file_copy", "wal_log"} {
		b.Run(strategy, func(b *testing.B) {
			for b.Loop() {
				res := pgtap.Run(ctx, files, pgtap.Options{Dir: dir, Workers: runtime.NumCPU(), Server: srv.URL, Template: base, Strategy: strategy})
				for _, f := range res {
					if f.Failed() || f.Isolation == "transaction" {
						b.Fatalf("%s failed or shared: %s %s %+v", f.Path, f.Isolation, f.Error, f.Tests)
					}
				}
			}
		})
	}
}
