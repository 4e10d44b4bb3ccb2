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

// ProjectHash hashes the content a template is built from.
func ProjectHash(p migrate.Project) (string, error) {
	files, err := p.LoadMigrations()
	if err != nil {
		return "", err
	}
	reps, err := p.LoadRepeatables()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	io.WriteString(h, templateVersion+"\x00"+platform.Checksum()+"\x00"+strings.Join(platform.Roles, ",")+"\x00")
	for _, f := range files {
		fmt.Fprintf(h, "m\x00%d\x00%s\x00%s\x00", f.Version, f.Name, f.Checksum)
	}
	for _, r := range reps {
		fmt.Fprintf(h, "r\x00%s\x00%s\x00", r.Path, r.Checksum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ProjectDir finds the project folder for tests: DBTOOL_PROJECT_DIR, else
// the nearest parent of the working directory holding go.mod and
// migrations/.
func ProjectDir() (string, error) {
	if d := os.Getenv("DBTOOL_PROJECT_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) && fileExists(filepath.Join(d, "migrations")) {
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
func PrepareTemplate(ctx context.Context, serverURL string, p migrate.Project) (*Template, error) {
	hash, err := ProjectHash(p)
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
	r, err := migrate.New(migrate.Options{URL: pgtest.WithDatabase(serverURL, t.Name), Project: p, LockTimeout: time.Minute})
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

// New clones the project's template (built on first use) into a database of
// the test's own and returns it. The database is dropped when the test
// ends; when the test failed it is kept and its URL logged, to inspect.
//
// The project is found with ProjectDir. Acting as roles (As, AsAnon,
// AsUser, AsServiceRole, AsRole) goes through a login role that is neither
// superuser nor owner, so nothing passes on superuser or owner rights.
func New(tb testing.TB) *Database {
	tb.Helper()
	dir, err := ProjectDir()
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return NewFor(tb, migrate.Project{Dir: dir})
}

// NewFor is New for an explicit project.
func NewFor(tb testing.TB, p migrate.Project) *Database {
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
