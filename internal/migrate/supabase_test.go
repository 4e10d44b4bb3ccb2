package migrate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// A Supabase CLI project as people write them: timestamped files with any
// name, one wrapped in BEGIN/COMMIT, one that must run outside a
// transaction, a file the CLI skips, and a seed.
var supabaseFiles = map[string]string{
	"supabase/config.toml": "[db.seed]\nenabled = true\nsql_paths = ['./seed.sql']\n",
	"supabase/migrations/20240101000000_init.sql": `-- profiles, one per user
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text unique
);
alter table public.profiles enable row level security;
create policy "own profile" on public.profiles for select using (auth.uid() = id);
`,
	"supabase/migrations/20240102000000_wrapped.sql": `BEGIN;
create type public.status as enum ('draft', 'published');
create table public.posts (id bigint generated always as identity primary key, status public.status not null default 'draft', title text not null);
COMMIT;
`,
	"supabase/migrations/20240103000000_posts.index@v2.sql.sql": `-- dbtool:no-transaction
create index concurrently posts_title_idx on public.posts (title);
alter type public.status add value if not exists 'archived';
update public.posts set status = 'archived' where false;
`,
	"supabase/migrations/README.sql": "-- not a migration: the Supabase CLI skips it\n",
	"supabase/seed.sql":              "insert into public.posts (title) values ('hello');\n",
}

// cliPlatform is the little of Supabase's platform the fixture's files use
// (roles are cluster-wide: they may exist already).
const cliPlatform = `do $$ begin
  create role anon nologin; create role authenticated nologin; create role service_role nologin bypassrls;
exception when duplicate_object then null; end $$;
create schema auth; create table auth.users (id uuid primary key);
create function auth.uid() returns uuid language sql stable as $f$ select null::uuid $f$;`

func supabaseProject(t *testing.T, files map[string]string) Project {
	p := project(t, files)
	p.Layout = LayoutSupabase
	p.Seeds = []string{"supabase/seed.sql"}
	return p
}

func TestSupabaseLayoutAppliesAsTheCLIWould(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	p := supabaseProject(t, supabaseFiles)
	r, err := New(Options{URL: url, Project: p, Seed: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	res := up(t, r)
	if len(res.Migrations) != 3 {
		t.Fatalf("want 3 migrations applied, got %d", len(res.Migrations))
	}
	if len(res.Skipped) != 1 || res.Skipped[0] != "supabase/migrations/README.sql" {
		t.Errorf("want README.sql reported as skipped, got %v", res.Skipped)
	}
	if len(res.Seeds) != 1 || res.Seeds[0].State != "applied" {
		t.Errorf("want the seed applied, got %+v", res.Seeds)
	}
	// The Supabase CLI's history, version as text, name as the file says,
	// statements as the CLI splits them.
	versions := query[[]string](t, url, `select array_agg(version || ' ' || name order by version) from supabase_migrations.schema_migrations`)
	want := []string{"20240101000000 init", "20240102000000 wrapped", "20240103000000 posts.index@v2.sql"}
	if strings.Join(versions, "|") != strings.Join(want, "|") {
		t.Fatalf("history: got %v, want %v", versions, want)
	}
	stmts := query[[]string](t, url, `select statements from supabase_migrations.schema_migrations where version = '20240102000000'`)
	if len(stmts) != 4 || stmts[0] != "BEGIN" || stmts[3] != "COMMIT" {
		t.Errorf("statements recorded as the CLI splits them (BEGIN and COMMIT included): %q", stmts)
	}
	if n := query[int64](t, url, `select count(*) from public.posts where title = 'hello'`); n != 1 {
		t.Errorf("seed rows: %d", n)
	}
	hash := query[string](t, url, `select hash from supabase_migrations.seed_files where path = 'supabase/seed.sql'`)
	if len(hash) != 64 {
		t.Errorf("seed hash %q", hash)
	}
	if v := query[string](t, url, `select enum_range(null::public.status)::text`); v != "{draft,published,archived}" {
		t.Errorf("no-transaction file: enum is %s", v)
	}
	// Again: nothing to apply, the seed is not run twice, verify is clean.
	again := up(t, r)
	if again.Changed() || len(again.Seeds) != 1 || again.Seeds[0].State != "unchanged" {
		t.Fatalf("second up changed something: %+v", again)
	}
	if n := query[int64](t, url, `select count(*) from public.posts`); n != 1 {
		t.Errorf("seed ran twice: %d rows", n)
	}
	v, err := r.Verify(context.Background())
	if err != nil || !v.OK() {
		t.Fatalf("verify: %v %+v", err, v)
	}
}

// A database the Supabase CLI migrated (history rows, no dbtool ledger) is
// adopted: recorded versions are not applied again, the rest is.
func TestSupabaseHistoryAdopted(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	p := supabaseProject(t, supabaseFiles)
	files, err := p.LoadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	// What `supabase db push` leaves: the platform's objects, the files'
	// effect, and the history rows.
	execSQL(t, url, cliPlatform)
	execSQL(t, url, supabaseHistorySQL)
	for _, f := range files[:2] {
		execSQL(t, url, f.ExecSQL)
		execSQL(t, url, supabaseHistoryInsert(f))
	}
	r := runner(t, url, p)
	res := up(t, r)
	if len(res.Migrations) != 1 || res.Migrations[0].VersionText != "20240103000000" {
		t.Fatalf("want only the third file applied, got %+v", res.Migrations)
	}
	if n := query[int64](t, url, `select count(*) from dbtool.migrations`); n != 3 {
		t.Errorf("ledger rows: %d", n)
	}

	// An applied file edited afterwards: its statements differ from the
	// recorded ones.
	url2 := pgtest.EmptyDatabase(t)
	execSQL(t, url2, cliPlatform)
	execSQL(t, url2, supabaseHistorySQL)
	execSQL(t, url2, files[0].ExecSQL)
	execSQL(t, url2, supabaseHistoryInsert(files[0]))
	edited := map[string]string{}
	for k, v := range supabaseFiles {
		edited[k] = v
	}
	edited["supabase/migrations/20240101000000_init.sql"] = strings.Replace(supabaseFiles["supabase/migrations/20240101000000_init.sql"], "username text unique", "username text", 1)
	_, err = runner(t, url2, supabaseProject(t, edited)).Up(context.Background())
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Kind != ProblemEdited || !strings.Contains(ve.Problems[0].Detail, "statement 1") {
		t.Fatalf("want the edited file refused, got %v", err)
	}
}

// A no-transaction file that fails half way keeps what ran and resumes at
// the failing statement once it is fixed.
func TestNoTransactionFileResumes(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	bad := map[string]string{
		"migrations/20260101000000_base.up.sql": "create table public.t (id int primary key, n int);\n",
		"migrations/20260102000000_idx.up.sql":  "-- dbtool:no-transaction\ncreate index concurrently t_n_idx on public.t (n);\ncreate index concurrently t_x_idx on public.t (x);\ncreate index concurrently t_id_n_idx on public.t (id, n);\n",
	}
	p := project(t, bad)
	_, err := runner(t, url, p).Up(context.Background())
	var nt *NoTxError
	if !errors.As(err, &nt) || nt.Done != 1 || nt.Total != 3 || nt.File.Line != 3 || nt.File.SQLState != "42703" {
		t.Fatalf("want a NoTxError after 1 of 3 statements at line 3 (42703), got %v", err)
	}
	if n := query[int64](t, url, `select count(*) from pg_indexes where indexname = 't_n_idx'`); n != 1 {
		t.Fatal("the statement before the failure is kept")
	}
	if n := query[int64](t, url, `select count(*) from dbtool.migrations where version = 20260102000000`); n != 0 {
		t.Fatal("a failed file is not recorded")
	}
	// Fixed: resumes at statement 2, never runs statement 1 again (it would
	// fail: the index exists and the file says no IF NOT EXISTS).
	write(t, filepath.Join(p.Dir, "migrations/20260102000000_idx.up.sql"),
		"-- dbtool:no-transaction\ncreate index concurrently t_n_idx on public.t (n);\ncreate index concurrently t_x_idx on public.t (id);\ncreate index concurrently t_id_n_idx on public.t (id, n);\n")
	res := up(t, runner(t, url, p))
	if len(res.Migrations) != 1 {
		t.Fatalf("want the fixed file applied, got %+v", res.Migrations)
	}
	if n := query[int64](t, url, `select count(*) from pg_indexes where tablename = 't'`); n != 4 {
		t.Errorf("want 4 indexes (pkey + 3), got %d", n)
	}
	if again := up(t, runner(t, url, p)); again.Changed() {
		t.Errorf("second up changed something")
	}
	// Transaction control inside a no-transaction file is refused.
	p2 := project(t, map[string]string{"migrations/20260101000000_x.up.sql": "-- dbtool:no-transaction\nbegin;\ncreate table public.y (id int);\ncommit;\n"})
	if _, err := p2.LoadMigrations(); err == nil || !strings.Contains(err.Error(), "no-transaction") {
		t.Errorf("want BEGIN refused in a no-transaction file, got %v", err)
	}
}

func TestChecksumIgnoresCRLF(t *testing.T) {
	if checksum([]byte("a\r\nb\r\n")) != checksum([]byte("a\nb\n")) {
		t.Fatal("CRLF and LF checkouts of one file must have one checksum")
	}
	if checksum([]byte("a\nb\n")) == checksum([]byte("a\nc\n")) {
		t.Fatal("different content, same checksum")
	}
}

// The Supabase CLI applies files in file-name order. A project whose later
// files have shorter versions (202406201411_...) after 14-digit ones
// (20230104160241_...) applies in that order, not in numeric order (seen
// on a public project: its 2024 files add columns to tables of 2023).
func TestSupabaseShortVersionsInFileNameOrder(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	p := supabaseProject(t, map[string]string{
		"supabase/migrations/20230104160241_init.sql":       "create table public.golfer (id int primary key);\n",
		"supabase/migrations/2024041012052_startdate.sql":   "alter table public.golfer add column start_date date;\n",
		"supabase/migrations/202406201411_invalid_col.sql":  "alter table public.golfer add column invalid boolean;\n",
		"supabase/migrations/20240701000000_after_both.sql": "alter table public.golfer add column note text;\n",
	})
	p.Seeds = nil
	r, err := New(Options{URL: url, Project: p, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	res := up(t, r)
	var order []string
	for _, m := range res.Migrations {
		order = append(order, filepath.Base(m.Path))
	}
	want := []string{"20230104160241_init.sql", "2024041012052_startdate.sql", "202406201411_invalid_col.sql", "20240701000000_after_both.sql"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("applied %v, want the file-name order %v", order, want)
	}
	versions := query[[]string](t, url, `select array_agg(version order by version) from supabase_migrations.schema_migrations`)
	if strings.Join(versions, " ") != "20230104160241 2024041012052 202406201411 20240701000000" {
		t.Errorf("history keeps the versions as the files spell them: %v", versions)
	}
	if again := up(t, r); again.Changed() {
		t.Errorf("second up changed something: %+v", again)
	}
}

// Hand-numbered Supabase projects often start at 000_ (the CLI takes any
// digits), and sometimes number two files alike or mix widths; the last two
// are refused before anything runs, each with the versions as written.
func TestSupabaseNumberedFiles(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	p := supabaseProject(t, map[string]string{
		"supabase/migrations/000_foundation.sql": "create table public.accounts (id int primary key);\n",
		"supabase/migrations/001_core.sql":       "alter table public.accounts add column name text;\n",
	})
	p.Seeds = nil
	r, err := New(Options{URL: url, Project: p, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	up(t, r)
	versions := query[[]string](t, url, `select array_agg(version order by version) from supabase_migrations.schema_migrations`)
	if strings.Join(versions, " ") != "000 001" {
		t.Fatalf("history: %v, want 000 001", versions)
	}
	if again := up(t, r); again.Changed() {
		t.Errorf("second up changed something: %+v", again)
	}

	for _, c := range []struct {
		files map[string]string
		want  []string
	}{
		{map[string]string{
			"supabase/migrations/013_forms.sql":  "select 1;\n",
			"supabase/migrations/013_portal.sql": "select 1;\n",
		}, []string{`013_portal.sql: version "013" is also used by supabase/migrations/013_forms.sql`, "history row per version"}},
		{map[string]string{
			"supabase/migrations/1_init.sql":  "select 1;\n",
			"supabase/migrations/10_more.sql": "select 1;\n",
		}, []string{`version "1" and version "10" of supabase/migrations/10_more.sql take the same place`, "one width (001_, 010_)"}},
	} {
		p := supabaseProject(t, c.files)
		_, err := p.LoadMigrations()
		if err == nil {
			t.Fatalf("%v: loaded without error", c.files)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
	}
}

// What `supabase db pull` writes: pg_dump's session settings (search_path
// emptied for the session), `create extension if not exists` for the
// extensions every hosted project has, then fully qualified objects. On
// Supabase the extension statements do nothing; here those of Supabase's
// own image are skipped and said, and the empty search_path does not make
// verify see every object as dropped and added again.
func TestSupabaseRemoteSchemaFile(t *testing.T) {
	t.Parallel()
	url := pgtest.EmptyDatabase(t)
	if query[bool](t, url, `select exists (select 1 from pg_available_extensions where name = 'pg_graphql')`) {
		t.Skip("this server has pg_graphql: nothing to skip")
	}
	dump := `SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;

CREATE EXTENSION IF NOT EXISTS "pg_graphql" WITH SCHEMA "graphql";
CREATE EXTENSION IF NOT EXISTS "supabase_vault" WITH SCHEMA "vault";
CREATE EXTENSION IF NOT EXISTS "pgcrypto" WITH SCHEMA "extensions";

CREATE OR REPLACE FUNCTION "public"."is_admin"() RETURNS boolean
    LANGUAGE "sql" STABLE
    AS $$ select false $$;

CREATE TABLE IF NOT EXISTS "public"."plans" (
    "id" "uuid" DEFAULT "extensions"."gen_random_uuid"() NOT NULL,
    "name" "text" NOT NULL
);
ALTER TABLE "public"."plans" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "plans_read" ON "public"."plans" FOR SELECT TO "authenticated" USING (true);
`
	p := supabaseProject(t, map[string]string{
		"supabase/migrations/20260112164532_remote_schema.sql": dump,
		"supabase/migrations/20260113000000_more.sql":          "alter table public.plans add column price integer;\n",
	})
	p.Seeds = nil
	var logged []string
	r, err := New(Options{URL: url, Project: p, Logf: func(f string, a ...any) {
		logged = append(logged, fmt.Sprintf(f, a...))
		t.Logf(f, a...)
	}})
	if err != nil {
		t.Fatal(err)
	}
	up(t, r)
	all := strings.Join(logged, "\n")
	for _, want := range []string{
		"supabase/migrations/20260112164532_remote_schema.sql:5: skipped `create extension if not exists pg_graphql`",
		"remote_schema.sql:6: skipped `create extension if not exists supabase_vault`",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("log does not say %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "if not exists pgcrypto") {
		t.Errorf("pgcrypto is available and must run, not be skipped:\n%s", all)
	}
	// The Supabase history keeps the file's statements as written.
	stmts := query[[]string](t, url, `select statements from supabase_migrations.schema_migrations where version = '20260112164532'`)
	if !strings.Contains(strings.Join(stmts, "\n"), `CREATE EXTENSION IF NOT EXISTS "pg_graphql"`) {
		t.Errorf("history statements lost the extension statement: %q", stmts)
	}
	v, err := r.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() {
		t.Errorf("verify after a file that empties search_path: %+v", v.Problems)
	}

	// Without IF NOT EXISTS the statement fails on Supabase too (the
	// extension exists there): it is not skipped.
	url2 := pgtest.EmptyDatabase(t)
	p2 := supabaseProject(t, map[string]string{
		"supabase/migrations/20260101000000_graphql.sql": "create extension pg_graphql;\n",
	})
	p2.Seeds = nil
	r2, err := New(Options{URL: url2, Project: p2, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Up(context.Background()); err == nil || !strings.Contains(err.Error(), "pg_graphql") {
		t.Errorf("create extension pg_graphql without IF NOT EXISTS: %v, want the extension's error", err)
	}
}
