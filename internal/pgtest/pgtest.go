// Package pgtest gives tests a real PostgreSQL: one server per test binary
// (from pgserver: a URL, a throwaway local cluster or a container) and empty
// databases, dropped after the test and kept, with their URL logged, when the
// test failed. The role-acting harness (package dbtest) builds on it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/pgserver"
)

var (
	beforeStop []func(serverURL string)
	mu         sync.Mutex
	server     *pgserver.Server
	srvErr     error
)

// Main runs m's tests and stops the shared server afterwards. Call it from
// TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
//
// The server comes from the environment: DATABASE_URL (a server to use),
// DBTOOL_BACKEND (auto, local, docker, url) and DBTOOL_PG_IMAGE.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if server != nil {
		for _, fn := range beforeStop {
			fn(server.URL)
		}
		if err := server.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "dbtest: stop server:", err)
		}
	}
	mu.Unlock()
	os.Exit(code)
}

// BeforeStop registers fn to run (with the server's URL) after the tests,
// before the server stops: for cluster-wide clean-up such as roles.
func BeforeStop(fn func(serverURL string)) {
	mu.Lock()
	defer mu.Unlock()
	beforeStop = append(beforeStop, fn)
}

// Server returns the shared server, starting it on first use. It fails the
// test when no server can be had.
func Server(tb testing.TB) *pgserver.Server {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if server == nil && srvErr == nil {
		backend, err := pgserver.ParseBackend(os.Getenv("DBTOOL_BACKEND"))
		if err != nil {
			srvErr = err
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			server, srvErr = pgserver.Start(ctx, pgserver.Options{URL: os.Getenv("DATABASE_URL"), Backend: backend})
			cancel()
		}
	}
	if srvErr != nil {
		tb.Fatalf("dbtest: no PostgreSQL server: %v", srvErr)
	}
	return server
}

// Backend reports which backend the shared server uses.
func Backend(tb testing.TB) pgserver.Backend { return Server(tb).Backend }

// WithDatabase returns a copy of the server URL pointing at database name.
func WithDatabase(serverURL, name string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// RandomName returns prefix followed by 12 random hex digits.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// EmptyDatabase creates an empty database for the test and returns its URL
// (as the server's superuser). It is dropped when the test ends, unless the
// test failed: then it is kept and its URL logged for inspection.
func EmptyDatabase(tb testing.TB) string {
	tb.Helper()
	srv := Server(tb)
	name := RandomName("dbtool_test_")
	ctx := context.Background()
	if err := AdminExec(ctx, srv.URL, fmt.Sprintf("create database %s template template0", name)); err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	dbURL := WithDatabase(srv.URL, name)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("dbtest: kept database for inspection: %s", dbURL)
			return
		}
		if err := AdminExec(context.Background(), srv.URL, fmt.Sprintf("drop database if exists %s with (force)", name)); err != nil {
			tb.Logf("dbtest: drop database %s: %v", name, err)
		}
	})
	return dbURL
}

// AdminExec runs sql on the server's maintenance database as its admin.
func AdminExec(ctx context.Context, serverURL, sql string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
