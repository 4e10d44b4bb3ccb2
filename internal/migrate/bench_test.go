package migrate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gm "github.com/golang-migrate/migrate/v4"
	gmpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
	"github.com/dbtool-dev/dbtool/internal/platform"
)

// generatedProject writes n small migrations like FACTS.md measured: a table
// with a CHECK, an index, RLS, a policy and a plpgsql function each.
func generatedProject(b *testing.B, n int) Project {
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "migrations"), 0o755)
	for i := 1; i <= n; i++ {
		sql := fmt.Sprintf(`create table public.t%[1]d (
  id bigint generated always as identity primary key,
  owner uuid not null,
  amount integer not null check (amount between 0 and 1000000),
  created_at timestamptz not null default now()
);
create index t%[1]d_owner_idx on public.t%[1]d (owner);
alter table public.t%[1]d enable row level security;
create policy t%[1]d_select_own on public.t%[1]d for select to authenticated using (owner = (select auth.uid()));
create function public.t%[1]d_total(who uuid) returns bigint language plpgsql stable set search_path = '' as $$
begin
  return (select coalesce(sum(amount), 0) from public.t%[1]d where owner = who);
end $$;
`, i)
		os.WriteFile(filepath.Join(dir, "migrations", fmt.Sprintf("%d_t%d.up.sql", 20260101000000+i, i)), []byte(sql), 0o644)
	}
	return Project{Dir: dir}
}

// newDB creates an empty database, optionally with the platform layer
// already installed (golang-migrate alone needs it for the files to apply).
func newDB(b *testing.B, withPlatform bool) string {
	url := pgtest.EmptyDatabase(b)
	if withPlatform {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, bootstrapSQL); err != nil {
			b.Fatal(err)
		}
		if _, err := platform.Install(ctx, conn); err != nil {
			b.Fatal(err)
		}
	}
	return url
}

func golangMigrateAlone(b *testing.B, url string, p Project) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	drv, err := gmpgx.WithInstance(db, &gmpgx.Config{})
	if err != nil {
		b.Fatal(err)
	}
	src, err := iofs.New(os.DirFS(filepath.Join(p.Dir, "migrations")), ".")
	if err != nil {
		b.Fatal(err)
	}
	m, err := gm.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Up(); err != nil {
		b.Fatal(err)
	}
	m.Close()
}

// benchCompare times dbtool's Up (on an empty database: it installs the
// platform layer too) against golang-migrate alone on the same versioned
// files, alternating within one run, and reports the ratio.
func benchCompare(b *testing.B, p Project) {
	ctx := context.Background()
	var tDbtool, tGM time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		urlA, urlB := newDB(b, false), newDB(b, true)
		b.StartTimer()
		start := time.Now()
		r, _ := New(Options{URL: urlA, Project: p})
		if _, err := r.Up(ctx); err != nil {
			b.Fatal(err)
		}
		tDbtool += time.Since(start)
		b.StopTimer()
		start = time.Now()
		golangMigrateAlone(b, urlB, p)
		tGM += time.Since(start)
		b.StartTimer()
		n++
	}
	b.ReportMetric(float64(tDbtool.Milliseconds())/float64(n), "dbtool-ms/op")
	b.ReportMetric(float64(tGM.Milliseconds())/float64(n), "golang-migrate-ms/op")
	b.ReportMetric(float64(tDbtool)/float64(tGM), "ratio")
}

// BenchmarkUpVsGolangMigrate30 uses 30 generated migrations (target: ratio
// at most 1.2).
func BenchmarkUpVsGolangMigrate30(b *testing.B) {
	benchCompare(b, generatedProject(b, 30))
}

// BenchmarkUpVsGolangMigrateRepository uses this repository's migrations/;
// dbtool's time includes the repeatable procedures/ and policies/, which
// golang-migrate alone cannot apply (see also ...VersionedOnly).
func BenchmarkUpVsGolangMigrateRepository(b *testing.B) {
	p := Project{Dir: "../.."}
	if files, _ := p.LoadMigrations(); len(files) == 0 {
		b.Skip("the repository has no migrations yet")
	}
	benchCompare(b, p)
}

// BenchmarkUpVsGolangMigrateRepositoryVersionedOnly: the repository's
// versioned files only, the like-for-like comparison.
func BenchmarkUpVsGolangMigrateRepositoryVersionedOnly(b *testing.B) {
	p := Project{Dir: "../..", Procedures: "-none-", Policies: "-none-"}
	if files, _ := p.LoadMigrations(); len(files) == 0 {
		b.Skip("the repository has no migrations yet")
	}
	benchCompare(b, p)
}

// BenchmarkSupabaseUpVsPsql: a generated 100-file Supabase-layout project
// (supabase/migrations/<digits>_<name>.sql), dbtool migrate up (ledger,
// Supabase history rows, snapshot) against psql applying the same files in
// one session (\i each, ON_ERROR_STOP), alternating in one run, each on a
// fresh database with the platform layer installed. Target: ratio <= 1.3.
func BenchmarkSupabaseUpVsPsql(b *testing.B) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		b.Skip("psql not installed")
	}
	const n = 100
	p := generatedProject(b, n)
	// The same files, named as the Supabase CLI names them.
	sdir := filepath.Join(p.Dir, "supabase", "migrations")
	os.MkdirAll(sdir, 0o755)
	var script strings.Builder
	script.WriteString("\\set ON_ERROR_STOP on\n")
	entries, _ := os.ReadDir(filepath.Join(p.Dir, "migrations"))
	for _, e := range entries {
		src, _ := os.ReadFile(filepath.Join(p.Dir, "migrations", e.Name()))
		name := strings.Replace(e.Name(), ".up.sql", ".sql", 1)
		os.WriteFile(filepath.Join(sdir, name), src, 0o644)
		fmt.Fprintf(&script, "\\i %s\n", filepath.Join(sdir, name))
	}
	os.RemoveAll(filepath.Join(p.Dir, "migrations"))
	sp := Project{Dir: p.Dir, Layout: LayoutSupabase}
	scriptPath := filepath.Join(p.Dir, "apply.psql")
	os.WriteFile(scriptPath, []byte(script.String()), 0o644)
	ctx := context.Background()
	var tDbtool, tPsql time.Duration
	for b.Loop() {
		b.StopTimer()
		url := newDB(b, true)
		r, err := New(Options{URL: url, Project: sp, Platform: "supabase"})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := r.Up(ctx)
		tDbtool += time.Since(t0)
		if err != nil || len(res.Migrations) != n {
			b.Fatalf("dbtool: %v (%d applied)", err, len(res.Migrations))
		}
		b.StopTimer()
		url2 := newDB(b, true)
		b.StartTimer()
		t0 = time.Now()
		out, err := exec.Command(psql, "-X", "-q", "-d", url2, "-f", scriptPath).CombinedOutput()
		tPsql += time.Since(t0)
		if err != nil {
			b.Fatalf("psql: %v\n%s", err, out)
		}
	}
	b.ReportMetric(float64(tDbtool.Milliseconds())/float64(b.N), "dbtool-ms/op")
	b.ReportMetric(float64(tPsql.Milliseconds())/float64(b.N), "psql-ms/op")
	b.ReportMetric(float64(tDbtool)/float64(tPsql), "ratio")
}
