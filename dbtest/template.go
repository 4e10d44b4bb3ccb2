package dbtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbtool-dev/dbtool/internal/config"
	"github.com/dbtool-dev/dbtool/internal/migrate"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
	"github.com/dbtool-dev/dbtool/internal/platform"
)

// Template is a migrated database that test databases are cloned from. Its
// name carries a hash of everything it is built from (platform layer,
// migrations, procedures, policies, the roles it needs), so a change to any
// of them builds a new template and unchanged content is built once per
// server, however many tests and processes ask for it.
type Template struct {
	Name      string
	ServerURL string // admin URL of the server
	Hash      string
}

// templateVersion changes when the way templates are built changes.
const templateVersion = "dbtool-template-v1"

var (
	tplMu    sync.Mutex
	tplCache = map[string]*Template{}
)

// Project says where a project's SQL lives and how its platform behaves.
// Every field is optional: an empty field is read from the folder's
// dbtool.yaml (and supabase/config.toml), then from dbtool's defaults.
type Project struct {
	// Dir is the project folder (default: ProjectDir).
	Dir string
	// Layout is "dbtool" (migrations/, procedures/, policies/) or
	// "supabase" (supabase/migrations/); default: detected.
	Layout string
	// Migrations, Procedures and Policies are folders relative to Dir.
	Migrations, Procedures, Policies string
	// Platform is the default-privileges profile of dbtool's Supabase
	// layer: "dbtool", "supabase" or "supabase-auto-expose".
	Platform string
}

// resolve fills the empty fields from the folder's configuration.
func (p Project) resolve() (Project, error) {
	if p.Dir == "" {
		d, err := ProjectDir()
		if err != nil {
			return p, err
		}
		p.Dir = d
	}
	cfg, err := config.Load(p.Dir, func(string) string { return "" })
	if err != nil {
		return p, err
	}
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&p.Layout, cfg.Layout)
	if p.Layout == cfg.Layout {
		set(&p.Migrations, cfg.Migrations)
	}
	set(&p.Procedures, cfg.Procedures)
	set(&p.Policies, cfg.Policies)
	set(&p.Platform, cfg.Platform)
	return p, nil
}

func (p Project) migrate() migrate.Project {
	return migrate.Project{Dir: p.Dir, Layout: p.Layout, Migrations: p.Migrations, Procedures: p.Procedures, Policies: p.Policies}
}

// ProjectHash hashes the content a template is built from.
func ProjectHash(p Project) (string, error) {
	p, err := p.resolve()
	if err != nil {
		return "", err
	}
	return hashProject(p)
}

func hashProject(p Project) (string, error) {
	mp := p.migrate()
	files, err := mp.LoadMigrations()
	if err != nil {
		return "", err
	}
	reps, err := mp.LoadRepeatables()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	io.WriteString(h, templateVersion+"\x00"+platform.Checksum()+"\x00"+strings.Join(platform.Roles, ",")+"\x00"+p.Platform+"\x00"+p.Layout+"\x00")
	for _, f := range files {
		fmt.Fprintf(h, "m\x00%d\x00%s\x00%s\x00", f.Version, f.Name, f.Checksum)
	}
	for _, r := range reps {
		fmt.Fprintf(h, "r\x00%s\x00%s\x00", r.Path, r.Checksum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ProjectDir finds the project folder for tests: DBTOOL_PROJECT_DIR, else
// the nearest parent of the working directory (the test's package) that
// holds go.mod and migrations/ or supabase/ (the module root of a project
// laid out for dbtool or for the Supabase CLI).
func ProjectDir() (string, error) {
	if d := os.Getenv("DBTOOL_PROJECT_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) && (fileExists(filepath.Join(d, "migrations")) || fileExists(filepath.Join(d, "supabase"))) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no project folder found above " + wd + " (set DBTOOL_PROJECT_DIR)")
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// PrepareTemplate returns the template for project p on the shared server,
// building it when it does not exist yet (or was left half-built). Safe for
// parallel tests and for several test processes: builders serialise on an
// advisory lock on the server's maintenance database.
func PrepareTemplate(ctx context.Context, serverURL string, p Project) (*Template, error) {
	p, err := p.resolve()
	if err != nil {
		return nil, err
	}
	hash, err := hashProject(p)
	if err != nil {
		return nil, err
	}
	key := serverURL + "\x00" + hash
	tplMu.Lock()
	defer tplMu.Unlock()
	if t, ok := tplCache[key]; ok {
		return t, nil
	}
	t := &Template{Name: "dbtool_tpl_" + hash[:20], ServerURL: serverURL, Hash: hash}
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "select pg_advisory_lock(hashtext($1))", t.Name); err != nil {
		return nil, err
	}
	defer admin.Exec(context.WithoutCancel(ctx), "select pg_advisory_unlock(hashtext($1))", t.Name)

	var exists, complete bool
	err = admin.QueryRow(ctx, `select true, datistemplate from pg_database where datname = $1`, t.Name).Scan(&exists, &complete)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	if complete {
		// Roles are cluster-wide and not part of the template: rebuild when
		// one the template relies on has gone.
		var missing int
		if err := admin.QueryRow(ctx, `select count(*) from unnest($1::text[]) r where not exists (select 1 from pg_roles where rolname = r)`, platform.Roles).Scan(&missing); err != nil {
			return nil, err
		}
		if missing == 0 {
			tplCache[key] = t
			return t, nil
		}
	}
	if exists {
		// Half-built (a builder died) or stale roles: start again.
		if _, err := admin.Exec(ctx, fmt.Sprintf("alter database %s is_template false", t.Name)); err != nil {
			return nil, err
		}
		if _, err := admin.Exec(ctx, fmt.Sprintf("drop database %s with (force)", t.Name)); err != nil {
			return nil, err
		}
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("create database %s template template0", t.Name)); err != nil {
		return nil, err
	}
	r, err := migrate.New(migrate.Options{URL: pgtest.WithDatabase(serverURL, t.Name), Project: p.migrate(), Platform: p.Platform, LockTimeout: time.Minute})
	if err != nil {
		return nil, err
	}
	if _, err := r.Up(ctx); err != nil {
		return nil, fmt.Errorf("build template %s: %w", t.Name, err)
	}
	// Marking it a template is the "complete" flag; no session may stay
	// connected, or clones fail.
	if _, err := admin.Exec(ctx, fmt.Sprintf("alter database %s is_template true allow_connections false", t.Name)); err != nil {
		return nil, err
	}
	if _, err := admin.Exec(ctx, `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, t.Name); err != nil {
		return nil, err
	}
	tplCache[key] = t
	return t, nil
}

// Clone creates a new database from the template and returns its name.
func (t *Template) Clone(ctx context.Context) (string, error) {
	name := pgtest.RandomName("dbtool_t_")
	if err := pgtest.AdminExec(ctx, t.ServerURL, fmt.Sprintf("create database %s template %s", name, t.Name)); err != nil {
		return "", fmt.Errorf("clone template %s: %w", t.Name, err)
	}
	return name, nil
}

// Database is a test's own database, cloned from the project's template.
type Database struct {
	Name     string
	URL      string // as the server's admin (owner of every object)
	Template *Template

	mu   sync.Mutex
	pool *pgxpool.Pool // tester connections
}

// New gives the test a database of its own, migrated from the project's
// files, and returns it.
//
// What it does: finds the project (ProjectDir: the module root holding
// migrations/ or supabase/, or DBTOOL_PROJECT_DIR) and its dbtool.yaml; on
// first use per server and content it builds a template database (dbtool's
// Supabase layer on plain PostgreSQL, every migration, procedure and policy,
// as `dbtool migrate up` does), then clones it (CREATE DATABASE ...
// TEMPLATE, ~30 ms) for this test. The server is the one Main started:
// DATABASE_URL when set, else a throwaway cluster from the local binaries
// (or a container with DBTOOL_BACKEND=docker and DBTOOL_PG_IMAGE).
//
// What it logs: nothing on success; when the test failed, "kept database
// NAME for inspection: URL".
//
// On failure: a project that does not migrate fails the test (t.Fatal) with
// the file, line and SQLSTATE. On cleanup: the database is dropped when the
// test ends, unless the test failed (then it is kept, see above); the
// template stays for the next test and process.
//
// Acting as roles (As, AsAnon, AsUser, AsServiceRole, AsRole, AsPersona)
// goes through a login role that is neither superuser nor owner of
// anything, with the request settings PostgREST sets, so row level security
// and privileges apply as they do for API clients. db.URL connects as the
// server's admin (to set up data without policies).
func New(tb testing.TB) *Database {
	tb.Helper()
	return NewFor(tb, Project{})
}

// NewFor is New for an explicit project (empty fields as New finds them).
func NewFor(tb testing.TB, p Project) *Database {
	tb.Helper()
	srv := pgtest.Server(tb)
	ctx := context.Background()
	tpl, err := PrepareTemplate(ctx, srv.URL, p)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	name, err := tpl.Clone(ctx)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	db := &Database{Name: name, URL: pgtest.WithDatabase(srv.URL, name), Template: tpl}
	tb.Cleanup(func() {
		db.closeTester()
		if tb.Failed() {
			tb.Logf("dbtest: kept database %s for inspection: %s", name, db.URL)
			return
		}
		if err := pgtest.AdminExec(context.Background(), srv.URL, fmt.Sprintf("drop database if exists %s with (force)", name)); err != nil {
			tb.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	return db
}

// Main runs m's tests, then drops the process's tester role and stops the
// shared server. Call it from TestMain.
func Main(m *testing.M) {
	pgtest.BeforeStop(dropTester)
	pgtest.Main(m)
}
