package tests

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/migrate"
	"github.com/dbtool-dev/dbtool/internal/pgserver"
)

// With pg_cron installed, migrating the backbone schedules its four jobs
// (docs/scheduling.md); without it, nothing is scheduled and nothing fails
// (every other test runs without pg_cron).
func TestPgCronSchedulesJobs(t *testing.T) {
	if _, err := os.Stat("/usr/lib/postgresql/15/lib/pg_cron.so"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pg_cron is not installed (Debian: postgresql-15-cron); CI installs it")
		}
		t.Skip("pg_cron not installed")
	}
	if _, err := pgserver.FindBinDir(); err != nil {
		t.Skip(err)
	}
	t.Parallel()
	ctx := context.Background()
	srv, err := pgserver.Start(ctx, pgserver.Options{Backend: pgserver.BackendLocal,
		Settings: map[string]string{"shared_preload_libraries": "pg_cron", "cron.database_name": "postgres"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(ctx)
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "create extension pg_cron"); err != nil {
		t.Fatal(err)
	}
	dir, err := dbtest.ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	r, err := migrate.New(migrate.Options{URL: srv.URL, Project: migrate.Project{Dir: filepath.Clean(dir)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Up(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "select jobname from cron.job order by jobname")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dbtool_audit_partitions_ensure", "dbtool_business_stats_refresh", "dbtool_holds_expire", "dbtool_reminders_queue"}
	if len(jobs) != len(want) {
		t.Fatalf("scheduled jobs %v, want %v", jobs, want)
	}
	for i := range want {
		if jobs[i] != want[i] {
			t.Errorf("scheduled jobs %v, want %v", jobs, want)
		}
	}
	// The scheduled commands run as the migrating role: try each once.
	rows, err = conn.Query(ctx, "select command from cron.job order by jobname")
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		if _, err := conn.Exec(ctx, c); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
}
