package migrate

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/pgerr"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// project writes files (path -> content) into a temporary project folder.
func project(t *testing.T, files map[string]string) Project {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		write(t, filepath.Join(dir, p), c)
	}
	return Project{Dir: dir}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runner(t *testing.T, url string, p Project) *Runner {
	t.Helper()
	r, err := New(Options{URL: url, Project: p, LockTimeout: 20 * time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func up(t *testing.T, r *Runner) *UpResult {
	t.Helper()
	res, err := r.Up(context.Background())
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	return res
}

func query[T any](t *testing.T, url, sql string, args ...any) T {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

var baseFiles = map[string]string{
	"migrations/20260101000000_create_items.up.sql": `
create table public.items (
  id bigint generated always as identity primary key,
  name text not null check (length(name) between 1 and 100)
);
alter table public.items enable row level security;
`,
	"migrations/20260102000000_add_price.up.sql": `alter table public.items add column price_cents integer not null default 0 check (price_cents >= 0);`,
	"procedures/item_count.sql": `
create or replace function public.item_count() returns bigint
language sql stable set search_path = '' as $$ select count(*) from public.items $$;
`,
	"policies/items.sql": `
drop policy if exists items_select_all on public.items;
create policy items_select_all on public.items for select to anon, authenticated using (true);
`,
}

func TestUpTwiceIsNoOp(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	r := runner(t, url, project(t, baseFiles))
	first := up(t, r)
	if len(first.Migrations) != 2 || len(first.Repeatables) != 2 {
		t.Fatalf("first up applied %d migrations and %d repeatables, want 2 and 2", len(first.Migrations), len(first.Repeatables))
	}
	if len(first.Platform.Applied) == 0 {
		t.Error("platform layer not installed on a plain database")
	}
	second := up(t, r)
	if second.Changed() || len(second.Drift) > 0 || second.Recovered != "" {
		t.Fatalf("second up changed something: %+v", second)
	}
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Counts(); c[StateApplied] != 4 || len(c) != 1 {
		t.Errorf("status counts = %v, want 4 applied", c)
	}
	v, err := r.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Errorf("verify after a clean up: %v", v.Problems)
	}
	if got := query[string](t, url, "select public.item_count()::text"); got != "0" {
		t.Errorf("item_count() = %s", got)
	}
}

func TestDownMigrationRefused(t *testing.T) {
	t.Parallel()
	files := map[string]string{"migrations/20260101000000_a.up.sql": "select 1;", "migrations/20260101000000_a.down.sql": "select 1;"}
	url := pgtest.EmptyDatabase(t)
	_, err := runner(t, url, project(t, files)).Up(context.Background())
	var pe *ProjectError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "forward-only") {
		t.Fatalf("want a forward-only refusal, got %v", err)
	}
	if query[bool](t, url, "select to_regnamespace('dbtool') is not null") {
		t.Error("a refused run created the dbtool schema")
	}
}

func TestFailingMigrationLeavesNothing(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"migrations/20260101000000_ok.up.sql": "create table public.a (id int primary key);",
		"migrations/20260102000000_bad.up.sql": "create table public.b (id int primary key);\n" +
			"insert into public.b values (1);\n" +
			"insert into public.b values (1);\n", // 23505 at run time: no position
	}
	url := pgtest.EmptyDatabase(t)
	p := project(t, files)
	r := runner(t, url, p)
	_, err := r.Up(context.Background())
	var fe *pgerr.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("want a FileError, got %T %v", err, err)
	}
	if fe.File != "migrations/20260102000000_bad.up.sql" || fe.Line != 3 || fe.SQLState != "23505" {
		t.Errorf("error located at %s:%d %s, want the bad file, line 3, 23505: %v", fe.File, fe.Line, fe.SQLState, err)
	}
	if query[bool](t, url, "select to_regclass('public.b') is not null") {
		t.Error("table b of the failed file exists")
	}
	if v, d := query[int64](t, url, "select version from dbtool.schema_migrations"), query[bool](t, url, "select dirty from dbtool.schema_migrations"); v != 20260101000000 || d {
		t.Errorf("golang-migrate version = %d dirty=%v, want the last good version, clean", v, d)
	}
	// Fix the file: the next run works.
	write(t, filepath.Join(p.Dir, "migrations/20260102000000_bad.up.sql"), "create table public.b (id int primary key);\ninsert into public.b values (1);\n")
	res := up(t, r)
	if len(res.Migrations) != 1 {
		t.Errorf("applied %d after the fix, want 1", len(res.Migrations))
	}
}

func TestSyntaxErrorNamesLineAndTrap(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"migrations/20260101000000_mysqlish.up.sql": "-- a MySQL habit\ncreate table public.t (\n  id int primary key,\n  email text,\n  INDEX t_email (email)\n);\n",
	}
	url := pgtest.EmptyDatabase(t)
	_, err := runner(t, url, project(t, files)).Up(context.Background())
	var fe *pgerr.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("want a FileError, got %v", err)
	}
	if fe.Line != 5 || fe.SQLState != "42704" || !strings.Contains(fe.Trap, "MySQL") {
		t.Errorf("got line %d sqlstate %s trap %q", fe.Line, fe.SQLState, fe.Trap)
	}
}

func TestStatusAndVerifyOnEditedRemovedOutOfOrder(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	p := project(t, baseFiles)
	r := runner(t, url, p)
	up(t, r)
	ctx := context.Background()

	// Edited.
	write(t, filepath.Join(p.Dir, "migrations/20260101000000_create_items.up.sql"), baseFiles["migrations/20260101000000_create_items.up.sql"]+"\n-- edited\n")
	// Removed.
	os.Remove(filepath.Join(p.Dir, "migrations/20260102000000_add_price.up.sql"))
	// Out of order: older than the last applied version.
	write(t, filepath.Join(p.Dir, "migrations/20260101120000_late.up.sql"), "create table public.late (id int);")

	st, err := r.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, e := range st.Entries {
		states[e.Path] = e.State
	}
	want := map[string]string{
		"migrations/20260101000000_create_items.up.sql": StateEdited,
		"migrations/20260102000000_add_price.up.sql":    StateMissing,
		"migrations/20260101120000_late.up.sql":         StateOutOfOrder,
		"procedures/item_count.sql":                     StateApplied,
	}
	for path, s := range want {
		if states[path] != s {
			t.Errorf("%s: state %q, want %q (all: %v)", path, states[path], s, states)
		}
	}
	v, err := r.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, pr := range v.Problems {
		kinds[pr.Kind] = true
	}
	for _, k := range []string{ProblemEdited, ProblemMissing, ProblemOutOfOrder} {
		if !kinds[k] {
			t.Errorf("verify did not report %s: %v", k, v.Problems)
		}
	}
	// Up refuses to run past edited and out-of-order files, and changes nothing.
	_, err = r.Up(ctx)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("up: want a ValidationError, got %v", err)
	}
	if query[bool](t, url, "select to_regclass('public.late') is not null") {
		t.Error("up applied the out-of-order file")
	}
}

func TestRepeatableReappliesOnlyOnChange(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	p := project(t, baseFiles)
	r := runner(t, url, p)
	up(t, r)
	if res := up(t, r); len(res.Repeatables) != 0 {
		t.Fatalf("unchanged repeatables re-applied: %v", res.Repeatables)
	}
	write(t, filepath.Join(p.Dir, "procedures/item_count.sql"), `
create or replace function public.item_count() returns bigint
language sql stable set search_path = '' as $$ select count(*) + 100 from public.items $$;
`)
	res := up(t, r)
	if len(res.Repeatables) != 1 || res.Repeatables[0].Path != "procedures/item_count.sql" {
		t.Fatalf("applied %v, want only procedures/item_count.sql", res.Repeatables)
	}
	if got := query[string](t, url, "select public.item_count()::text"); got != "100" {
		t.Errorf("item_count() = %s after the change, want 100", got)
	}
	// A failing repeatable set rolls back whole: the earlier file's change is not kept.
	write(t, filepath.Join(p.Dir, "procedures/item_count.sql"), `
create or replace function public.item_count() returns bigint
language sql stable set search_path = '' as $$ select count(*) + 200 from public.items $$;
`)
	write(t, filepath.Join(p.Dir, "procedures/zz_broken.sql"), "create or replace function public.broken() returns int language sql as $$ select nope $$;")
	_, err := r.Up(context.Background())
	var fe *pgerr.FileError
	if !errors.As(err, &fe) || fe.File != "procedures/zz_broken.sql" || fe.SQLState != "42703" {
		t.Fatalf("want 42703 in procedures/zz_broken.sql, got %v", err)
	}
	if got := query[string](t, url, "select public.item_count()::text"); got != "100" {
		t.Errorf("item_count() = %s: the failed set was partly applied", got)
	}
}

func TestDriftReported(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	r := runner(t, url, project(t, baseFiles))
	up(t, r)
	// Changes "in a dashboard".
	execSQL(t, url, `create or replace function public.item_count() returns bigint language sql stable set search_path = '' as $$ select 42::bigint $$;
		alter policy items_select_all on public.items to authenticated;
		alter table public.items disable row level security;
		create function public.sneaky() returns int language sql as $$ select 1 $$;`)
	v, err := r.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range v.Problems {
		if p.Kind == ProblemDrift {
			got[p.Object] = p.Path
		}
	}
	want := map[string]string{
		"function item_count()":                "procedures/item_count.sql",
		"policy public.items items_select_all": "policies/items.sql",
		"table items":                          "",
		"function sneaky()":                    "",
	}
	for obj, path := range want {
		gotPath, ok := got[obj]
		if !ok {
			t.Errorf("drift of %s not reported (got %v)", obj, got)
		} else if gotPath != path {
			t.Errorf("drift of %s attributed to %q, want %q", obj, gotPath, path)
		}
	}
	if len(got) != len(want) {
		t.Errorf("drift reported %v, want exactly %v", got, want)
	}

	// migrate up does not accept it silently: what no file restores (RLS
	// switched off on a table whose files never switch it, a function no
	// file defines) stops the run, saying what changed, old and new.
	_, err = r.Up(context.Background())
	var de *DriftError
	if !errors.As(err, &de) {
		t.Fatalf("up after drift: want a DriftError, got %v", err)
	}
	msg := err.Error()
	for _, wantText := range []string{"table items changed outside dbtool (was: rls=on", "now: rls=off", "function sneaky() added outside dbtool", "--accept-drift"} {
		if !strings.Contains(msg, wantText) {
			t.Errorf("drift error lacks %q:\n%s", wantText, msg)
		}
	}
	if n := query[int64](t, url, `select count(*) from pg_policy where polname = 'items_select_all' and polroles = array[(select oid from pg_roles where rolname = 'authenticated')]`); n != 1 {
		t.Errorf("a refused run applied something")
	}
	if v, _ := r.Verify(context.Background()); v.OK() {
		t.Fatal("verify must stay red until the drift is repaired or accepted")
	}

	// Accepted explicitly: recorded; the file-defined objects are restored
	// by applying their files again; verify is clean.
	acc, err := New(Options{URL: url, Project: r.opts.Project, AcceptDrift: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	res := up(t, acc)
	repaired := map[string]bool{}
	for _, d := range res.Repaired {
		repaired[d.Kind+" "+d.Object] = true
	}
	if !repaired["function item_count()"] || !repaired["policy public.items items_select_all"] || len(res.Accepted) != 2 {
		t.Fatalf("repaired %v, accepted %+v", repaired, res.Accepted)
	}
	if n := query[int64](t, url, `select public.item_count()`); n == 42 {
		t.Error("item_count() was not restored from its file")
	}
	if n := query[int64](t, url, `select count(*) from dbtool.drift_accepted where array_length(changes, 1) = 2`); n != 1 {
		t.Errorf("acceptance not recorded")
	}
	if v, err := r.Verify(context.Background()); err != nil || !v.OK() {
		t.Fatalf("verify after repair and acceptance: %v %+v", err, v)
	}
}

// A function changed by hand is restored by re-applying its file: no flag
// needed, and migrate up says so.
func TestDriftRepairedFromItsFile(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	r := runner(t, url, project(t, baseFiles))
	up(t, r)
	execSQL(t, url, `create or replace function public.item_count() returns bigint language sql stable set search_path = '' as $$ select 42::bigint $$;`)
	res := up(t, r)
	if len(res.Repaired) != 1 || res.Repaired[0].Path != "procedures/item_count.sql" || len(res.Repeatables) != 1 {
		t.Fatalf("want item_count repaired by re-applying its file, got %+v", res)
	}
	if n := query[int64](t, url, `select public.item_count()`); n == 42 {
		t.Error("not restored")
	}
	if v, err := r.Verify(context.Background()); err != nil || !v.OK() {
		t.Fatalf("verify: %v %+v", err, v)
	}
}

func TestConcurrentRunnersApplyOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	files := map[string]string{
		"migrations/20260101000000_slow.up.sql": "create table public.runs (id int); insert into public.runs values (1); select pg_sleep(0.5);",
	}
	p := project(t, files)
	var wg sync.WaitGroup
	results := make([]*UpResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = runner(t, url, p).Up(context.Background())
		}()
	}
	wg.Wait()
	applied := 0
	for i := range results {
		if errs[i] != nil {
			t.Errorf("runner %d: %v", i, errs[i])
			continue
		}
		applied += len(results[i].Migrations)
	}
	if applied != 1 {
		t.Errorf("the migration was applied %d times, want 1", applied)
	}
	if n := query[int64](t, url, "select count(*) from public.runs"); n != 1 {
		t.Errorf("runs has %d rows, want 1", n)
	}
}

func TestLockTimeoutFailsClearly(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	ctx := context.Background()
	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, "select pg_advisory_lock("+lockKey+")"); err != nil {
		t.Fatal(err)
	}
	r, _ := New(Options{URL: url, Project: project(t, baseFiles), LockTimeout: 300 * time.Millisecond})
	start := time.Now()
	_, err = r.Up(ctx)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("want ErrLocked, got %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("waited %s for a 300ms lock timeout", time.Since(start))
	}
	if !strings.Contains(err.Error(), "pid") {
		t.Errorf("error does not name the holder: %v", err)
	}
}

// A dbtool killed with SIGKILL in the middle of a file leaves golang-migrate's
// version dirty; the next run resolves it from the ledger, whichever way the
// file's transaction ended.
func TestKilledMigrateRecovers(t *testing.T) {
	t.Parallel()
	for _, serverAborts := range []bool{false, true} {
		name := "server-finishes-file"
		if serverAborts {
			name = "server-aborts-file"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := pgtest.EmptyDatabase(t)
			if serverAborts {
				// The server notices the dead client and rolls the file back.
				execSQL(t, url, "do $$ begin execute format('alter database %I set client_connection_check_interval = 100', current_database()); end $$")
			}
			files := map[string]string{
				"migrations/20260101000000_first.up.sql":  "create table public.first (id int);",
				"migrations/20260102000000_killed.up.sql": "create table public.killed (id int);\ninsert into public.killed values (1);\nselect pg_sleep(1.5);\n",
			}
			p := project(t, files)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMigrateUp$")
			cmd.Env = append(os.Environ(), "DBTOOL_HELPER_URL="+url, "DBTOOL_HELPER_DIR="+p.Dir)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until the killed file is running, then SIGKILL.
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if query[bool](t, url, "select exists (select 1 from pg_stat_activity where datname = current_database() and query like '%pg_sleep(1.5)%' and pid <> pg_backend_pid() and state = 'active')") {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			if !query[bool](t, url, "select dirty from dbtool.schema_migrations") {
				t.Fatal("expected golang-migrate's version to be dirty after the kill")
			}
			res := up(t, runner(t, url, p))
			if res.Recovered == "" {
				t.Error("up did not report a recovery")
			}
			if n := query[int64](t, url, "select count(*) from public.killed"); n != 1 {
				t.Errorf("killed file's rows: %d, want exactly 1", n)
			}
			if d := query[bool](t, url, "select dirty from dbtool.schema_migrations"); d {
				t.Error("still dirty")
			}
			if v := query[int64](t, url, "select version from dbtool.schema_migrations"); v != 20260102000000 {
				t.Errorf("version %d", v)
			}
		})
	}
}

func TestHelperMigrateUp(t *testing.T) {
	url := os.Getenv("DBTOOL_HELPER_URL")
	if url == "" {
		t.Skip("helper process for TestKilledMigrateRecovers")
	}
	r, _ := New(Options{URL: url, Project: Project{Dir: os.Getenv("DBTOOL_HELPER_DIR")}})
	_, _ = r.Up(context.Background())
}

func TestPlatformIdempotentAndSkippedOnSupabase(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	r := runner(t, url, project(t, nil))
	first := up(t, r)
	if len(first.Platform.Applied) == 0 {
		t.Fatal("platform not installed")
	}
	if second := up(t, r); len(second.Platform.Applied) != 0 {
		t.Errorf("platform re-applied: %v", second.Platform.Applied)
	}
	// Claims in both of Supabase's forms reach auth.uid().
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, setting := range []string{
		`select set_config('request.jwt.claims', '{"sub":"00000000-0000-0000-0000-000000000001","role":"authenticated","email":"a@example.com"}', true)`,
		`select set_config('request.jwt.claim.sub', '00000000-0000-0000-0000-000000000001', true), set_config('request.jwt.claim.role', 'authenticated', true), set_config('request.jwt.claim.email', 'a@example.com', true)`,
	} {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, setting); err != nil {
			t.Fatal(err)
		}
		var uid, role, email string
		if err := tx.QueryRow(ctx, "select auth.uid()::text, auth.role(), auth.email()").Scan(&uid, &role, &email); err != nil {
			t.Fatal(err)
		}
		tx.Rollback(ctx)
		if uid != "00000000-0000-0000-0000-000000000001" || role != "authenticated" || email != "a@example.com" {
			t.Errorf("%s: got %s %s %s", setting, uid, role, email)
		}
	}
	var execPublic bool
	execSQL(t, url, "create function public.fresh() returns int language sql as $$ select 1 $$")
	if execPublic = query[bool](t, url, "select has_function_privilege('public', 'public.fresh()', 'execute')"); execPublic {
		t.Error("a new function is executable by PUBLIC")
	}

	// A Supabase-like database: nothing installed.
	supa := pgtest.EmptyDatabase(t)
	execSQL(t, supa, `do $$ begin if not exists (select 1 from pg_roles where rolname = 'supabase_admin') then create role supabase_admin; end if; end $$;
		create schema auth; create table auth.users (id uuid primary key);`)
	res := up(t, runner(t, supa, project(t, nil)))
	if !res.Platform.Supabase || len(res.Platform.Applied) != 0 {
		t.Errorf("on a Supabase-like database: %+v", res.Platform)
	}
	if query[bool](t, supa, "select to_regprocedure('auth.uid()') is not null") {
		t.Error("auth.uid() was installed on a Supabase-like database")
	}
}

func TestNewFile(t *testing.T) {
	p := project(t, map[string]string{"migrations/20990101000000_future.up.sql": "select 1;"})
	path, err := p.NewFile("Add Bookings!", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if path != "migrations/20990101000001_add_bookings.up.sql" {
		t.Errorf("path = %s: versions must keep increasing", path)
	}
	if _, err := p.NewFile("!!!", time.Now()); err == nil {
		t.Error("a name without letters was accepted")
	}
	if files, err := p.LoadMigrations(); err != nil || len(files) != 2 {
		t.Errorf("LoadMigrations after new: %d files, %v", len(files), err)
	}
}

// Re-running a repeatable file by hand changes the order of the grants in
// the catalog, not the grants: that is no drift.
func TestRerunByHandIsNoDrift(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	files := map[string]string{
		"migrations/20260101000000_t.up.sql": "create table public.t (id int);",
		"procedures/f.sql": `create or replace function public.f() returns int language sql as $$ select 1 $$;
revoke execute on function public.f() from public, anon, authenticated;
grant execute on function public.f() to authenticated;
grant execute on function public.f() to anon;`,
	}
	r := runner(t, url, project(t, files))
	up(t, r)
	execSQL(t, url, `revoke execute on function public.f() from public, anon, authenticated;
		grant execute on function public.f() to anon; grant execute on function public.f() to authenticated;`)
	v, err := r.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Errorf("re-granting in another order reported as drift: %v", v.Problems)
	}
}

// Partitions created at run time (a monthly job) are not drift.
func TestNewPartitionIsNoDrift(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	files := map[string]string{
		"migrations/20260101000000_log.up.sql": `create table public.log (at timestamptz not null, what text) partition by range (at);
create table public.log_default partition of public.log default;`,
	}
	r := runner(t, url, project(t, files))
	up(t, r)
	execSQL(t, url, "create table public.log_2026_01 partition of public.log for values from ('2026-01-01') to ('2026-02-01')")
	v, err := r.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Errorf("a new partition reported as drift: %v", v.Problems)
	}
}
