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
	write := func(rel, s string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
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

// BenchmarkPgTAPvsPgProve: 20 files, dbtool test's runner (files that roll
// back run in parallel, one worker per core, each worker on its own clone) against pg_prove running the same files one after
// another on one database, in one run. Target: at least 1.8x faster.
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
	var dbtoolTime, proveTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		res := pgtap.Run(ctx, files, pgtap.Options{Dir: dir, Workers: runtime.NumCPU(), Server: srv.URL, Template: base})
		dbtoolTime += time.Since(t0)
		for _, f := range res {
			if f.Failed() {
				b.Fatalf("%s failed: %s %+v", f.Path, f.Error, f.Tests)
			}
		}
		t0 = time.Now()
		cmd := exec.Command(pgProve, paths...)
		cmd.Env = append(os.Environ(), pgEnv(b, proveURL)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pg_prove: %v\n%s", err, out)
		}
		proveTime += time.Since(t0)
	}
	b.ReportMetric(dbtoolTime.Seconds()/float64(b.N), "dbtool_s/op")
	b.ReportMetric(proveTime.Seconds()/float64(b.N), "pg_prove_s/op")
	b.ReportMetric(proveTime.Seconds()/dbtoolTime.Seconds(), "speedup")
}

// pgEnv: libpq's variables for url (pg_prove passes no URL to psql).
func pgEnv(tb testing.TB, raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return []string{"PGHOST=" + u.Hostname(), "PGPORT=" + u.Port(), "PGUSER=" + u.User.Username(), "PGDATABASE=" + strings.TrimPrefix(u.Path, "/")}
}
