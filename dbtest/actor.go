package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Actor is who a request runs as, and what PostgREST would tell the
// database about the request.
type Actor struct {
	Role    string         // database role to switch to (anon, authenticated, service_role, ...)
	Claims  map[string]any // the JWT claims (request.jwt.claims); sub, role, email, aal, ...
	Method  string         // request.method (default POST)
	Path    string         // request.path (default /)
	Headers map[string]string
	Cookies map[string]string
	// ReadOnly starts the transaction READ ONLY, as PostgREST does for GET
	// and for STABLE/IMMUTABLE functions.
	ReadOnly bool
	// LegacyClaims also sets request.jwt.claim.<name> per claim, as
	// PostgREST before v9 did (auth.uid() reads both forms).
	LegacyClaims bool
}

// Anon is an unauthenticated request.
func Anon() Actor { return Actor{Role: "anon", Claims: map[string]any{"role": "anon"}} }

// ServiceRole is a request with the service key (bypasses RLS).
func ServiceRole() Actor {
	return Actor{Role: "service_role", Claims: map[string]any{"role": "service_role"}}
}

// User is a signed-in user's request: role authenticated, sub = id, plus
// extra claims (email, aal, is_anonymous, app_metadata, ...).
func User(id string, extra map[string]any) Actor {
	c := map[string]any{"sub": id, "role": "authenticated", "aud": "authenticated", "aal": "aal1", "is_anonymous": false}
	for k, v := range extra {
		c[k] = v
	}
	return Actor{Role: "authenticated", Claims: c}
}

// Role is a request as any role with the given claims.
func Role(role string, claims map[string]any) Actor {
	c := map[string]any{"role": role}
	for k, v := range claims {
		c[k] = v
	}
	return Actor{Role: role, Claims: c}
}

// settings returns the set_config statement PostgREST's request wrapper
// amounts to, and its arguments.
func (a Actor) settings() (string, []any, error) {
	claims, err := json.Marshal(a.Claims)
	if err != nil {
		return "", nil, err
	}
	method, path := a.Method, a.Path
	if method == "" {
		method = "POST"
	}
	if path == "" {
		path = "/"
	}
	headers, _ := json.Marshal(orEmpty(a.Headers))
	cookies, _ := json.Marshal(orEmpty(a.Cookies))
	sql := `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
		set_config('request.method', $3, true), set_config('request.path', $4, true),
		set_config('request.headers', $5, true), set_config('request.cookies', $6, true)`
	args := []any{a.Role, string(claims), method, path, string(headers), string(cookies)}
	if a.LegacyClaims {
		for k, v := range a.Claims {
			s, ok := v.(string)
			if !ok {
				b, _ := json.Marshal(v)
				s = string(b)
			}
			args = append(args, "request.jwt.claim."+k, s)
			sql += fmt.Sprintf(", set_config($%d, $%d, true)", len(args)-1, len(args))
		}
	}
	return sql, args, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Begin starts a request on conn: a transaction with the actor's role and
// claims set transaction-locally, as PostgREST does.
func (a Actor) Begin(ctx context.Context, conn interface {
	BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
}) (pgx.Tx, error) {
	opts := pgx.TxOptions{}
	if a.ReadOnly {
		opts.AccessMode = pgx.ReadOnly
	}
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	sql, args, err := a.settings()
	if err == nil {
		_, err = tx.Exec(ctx, sql, args...)
	}
	if err != nil {
		tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}

// Tester is the login role requests are made through: LOGIN NOINHERIT, not a
// superuser, owner of nothing, member of the API roles (like PostgREST's
// authenticator). One per test process, created on first use and dropped
// by Main; leftovers of killed processes expire after a day and are reaped.
type Tester struct {
	Role     string
	Password string
}

var (
	testerMu sync.Mutex
	tester   *Tester
	// granted remembers the roles the tester was made a member of (per
	// server), so requests do not look them up again.
	granted = map[string]bool{}
)

// TesterFor returns the process's tester role on the server, creating it on
// first use, and makes sure it may switch to each of roles.
func TesterFor(ctx context.Context, serverURL string, roles ...string) (*Tester, error) {
	testerMu.Lock()
	defer testerMu.Unlock()
	if tester != nil {
		missing := false
		for _, r := range roles {
			if !granted[serverURL+"\x00"+r] {
				missing = true
			}
		}
		if !missing {
			return tester, nil
		}
	}
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	if tester == nil {
		b := make([]byte, 8)
		rand.Read(b)
		pw := make([]byte, 18)
		rand.Read(pw)
		t := &Tester{Role: "dbtool_tester_" + hex.EncodeToString(b), Password: hex.EncodeToString(pw)}
		// Reap testers of processes that died without dropping theirs.
		rows, err := conn.Query(ctx, `select rolname from pg_roles where rolname like 'dbtool\_tester\_%' and rolvaliduntil < now()`)
		if err != nil {
			return nil, err
		}
		stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		for _, r := range stale {
			conn.Exec(ctx, fmt.Sprintf("drop role if exists %s", pgx.Identifier{r}.Sanitize()))
		}
		_, err = conn.Exec(ctx, fmt.Sprintf(`create role %s login noinherit nosuperuser nocreatedb nocreaterole nobypassrls
			password '%s' valid until '%s'`, t.Role, t.Password, "infinity"))
		if err != nil {
			return nil, fmt.Errorf("create tester role: %w", err)
		}
		_, err = conn.Exec(ctx, fmt.Sprintf(`do $$ begin execute format('alter role %s valid until %%L', (now() + interval '1 day')::text); end $$`, t.Role))
		if err != nil {
			return nil, err
		}
		tester = t
	}
	for _, r := range roles {
		var member bool
		if err := conn.QueryRow(ctx, `select exists (select 1 from pg_auth_members m join pg_roles g on g.oid = m.roleid
			join pg_roles u on u.oid = m.member where g.rolname = $1 and u.rolname = $2)`, r, tester.Role).Scan(&member); err != nil {
			return nil, err
		}
		if !member {
			if _, err := conn.Exec(ctx, fmt.Sprintf("grant %s to %s", pgx.Identifier{r}.Sanitize(), tester.Role)); err != nil {
				return nil, fmt.Errorf("let the tester act as %s: %w", r, err)
			}
		}
		granted[serverURL+"\x00"+r] = true
	}
	return tester, nil
}

// dropTester drops the process's tester role (called by Main).
func dropTester(serverURL string) {
	testerMu.Lock()
	defer testerMu.Unlock()
	if tester == nil {
		return
	}
	_ = pgtest.AdminExec(context.Background(), serverURL, "drop role if exists "+tester.Role)
	tester = nil
	granted = map[string]bool{}
}

// URLAs returns dbURL with the tester's credentials.
func (t *Tester) URLAs(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		panic(err)
	}
	u.User = url.UserPassword(t.Role, t.Password)
	return u.String()
}

// apiPool returns the database's pool of tester connections.
func (db *Database) apiPool(ctx context.Context, roles ...string) (*pgxpool.Pool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.pool != nil && len(roles) == 0 {
		return db.pool, nil
	}
	srv := db.Template.ServerURL
	t, err := TesterFor(ctx, srv, append([]string{"anon", "authenticated", "service_role"}, roles...)...)
	if err != nil {
		return nil, err
	}
	if db.pool == nil {
		cfg, err := pgxpool.ParseConfig(t.URLAs(db.URL))
		if err != nil {
			return nil, err
		}
		cfg.MaxConns = 64
		cfg.ConnConfig.RuntimeParams["application_name"] = "dbtool test"
		if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return db.pool, nil
}

func (db *Database) closeTester() {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.pool != nil {
		db.pool.Close()
		db.pool = nil
	}
}

// As runs fn as actor in one request: a transaction on a tester connection
// with the role and claims set transaction-locally, committed when fn returns
// nil and rolled back otherwise (as PostgREST does on an error).
func (db *Database) As(ctx context.Context, actor Actor, fn func(tx pgx.Tx) error) error {
	var extra []string
	if actor.Role != "anon" && actor.Role != "authenticated" && actor.Role != "service_role" {
		extra = append(extra, actor.Role)
	}
	pool, err := db.apiPool(ctx, extra...)
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tx, err := actor.Begin(ctx, conn)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// AsAnon runs fn as an unauthenticated request.
func (db *Database) AsAnon(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.As(ctx, Anon(), fn)
}

// AsUser runs fn as the signed-in user id with extra claims.
func (db *Database) AsUser(ctx context.Context, id string, claims map[string]any, fn func(tx pgx.Tx) error) error {
	return db.As(ctx, User(id, claims), fn)
}

// AsServiceRole runs fn with the service role.
func (db *Database) AsServiceRole(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return db.As(ctx, ServiceRole(), fn)
}

// AsRole runs fn as role with claims.
func (db *Database) AsRole(ctx context.Context, role string, claims map[string]any, fn func(tx pgx.Tx) error) error {
	return db.As(ctx, Role(role, claims), fn)
}

// AsOwner runs fn in a transaction as the database's owner (the server's
// admin): for setting up data, never for the behaviour under test.
func (db *Database) AsOwner(ctx context.Context, fn func(tx pgx.Tx) error) error {
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return pgx.BeginFunc(ctx, conn, fn)
}
