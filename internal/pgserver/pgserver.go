// Package pgserver decides where dbtool's PostgreSQL comes from and manages
// its lifecycle. The CLI and every test use it, so they all run against the
// same kinds of server:
//
//  1. a URL (--database-url / DATABASE_URL): an existing server, used as is;
//  2. "local": a throwaway cluster built from the PostgreSQL binaries found on
//     this machine (initdb into a temporary directory, a free port, a private
//     unix socket, fsync off), stopped and removed by Stop;
//  3. "docker": a container started through testcontainers-go's postgres
//     module, image from DBTOOL_PG_IMAGE (default postgres:15).
//
// "auto" (the default) picks the URL when there is one, else local binaries,
// else Docker when the daemon answers and the image is present.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backend names where a server comes from.
type Backend string

const (
	BackendAuto   Backend = "auto"
	BackendURL    Backend = "url"
	BackendLocal  Backend = "local"
	BackendDocker Backend = "docker"
)

// DefaultImage is the container image used when DBTOOL_PG_IMAGE is unset.
const DefaultImage = "postgres:15"

// ErrNoBinaries is returned when no local PostgreSQL server binaries exist.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (looked for initdb on PATH, `pg_config --bindir`, /usr/lib/postgresql/*/bin)")

// ErrNoServer is returned by auto when no backend is available. Its message
// says what to install or set.
var ErrNoServer = errors.New(`no PostgreSQL available: set --database-url or DATABASE_URL to use a server, ` +
	`install the PostgreSQL server binaries (Debian: apt-get install postgresql-15) for a throwaway cluster, ` +
	`or start Docker with a PostgreSQL image present (make pg-image, or DBTOOL_PG_IMAGE=<image>)`)

// Options selects and tunes a server.
type Options struct {
	URL        string  // use this server (backend "url"); empty: start one
	Backend    Backend // auto (default), url, local, docker
	Image      string  // docker image; default DBTOOL_PG_IMAGE or DefaultImage
	BinDir     string  // local binaries; default: discovered (FindBinDir)
	Persistent bool    // local only: survive this process (dbtool db start)
	// Settings are extra server settings (local backend), e.g.
	// shared_preload_libraries=pg_cron.
	Settings map[string]string
	// LikeSupabase (local backend) preloads the libraries hosted Supabase
	// preloads when they are installed: pg_cron, for the database postgres.
	LikeSupabase bool
	Logf         func(format string, args ...any)
	// Verbose lets the container backend's own log lines through
	// (testcontainers prints every step); quiet by default.
	Verbose bool
}

// Server is a running PostgreSQL. URL connects as a superuser (throwaway
// backends) or as whatever the given URL says.
type Server struct {
	URL     string
	Backend Backend
	Dir     string // local backend: the cluster's directory

	once    sync.Once
	stopErr error
	stop    func(context.Context) error
}

// Stop shuts the server down and removes everything it created. It is safe to
// call more than once and on a URL server (where it does nothing).
func (s *Server) Stop(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		if s.stop != nil {
			s.stopErr = s.stop(ctx)
		}
	})
	return s.stopErr
}

// ParseBackend validates a backend name.
func ParseBackend(s string) (Backend, error) {
	switch b := Backend(strings.ToLower(strings.TrimSpace(s))); b {
	case "", BackendAuto:
		return BackendAuto, nil
	case BackendURL, BackendLocal, BackendDocker:
		return b, nil
	}
	return "", fmt.Errorf("unknown backend %q: want auto, local, docker or url", s)
}

// Start returns a ready server according to opts. The caller must Stop it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Image == "" {
		opts.Image = os.Getenv("DBTOOL_PG_IMAGE")
	}
	if opts.Image == "" {
		opts.Image = DefaultImage
	}
	backend := opts.Backend
	if backend == "" {
		backend = BackendAuto
	}
	switch backend {
	case BackendURL:
		if opts.URL == "" {
			return nil, errors.New("backend url needs --database-url or DATABASE_URL")
		}
		return &Server{URL: opts.URL, Backend: BackendURL}, nil
	case BackendLocal:
		return startLocal(ctx, opts)
	case BackendDocker:
		return startDocker(ctx, opts)
	case BackendAuto:
		if opts.URL != "" {
			return &Server{URL: opts.URL, Backend: BackendURL}, nil
		}
		if opts.BinDir != "" {
			return startLocal(ctx, opts)
		}
		if dir, err := FindBinDir(); err == nil {
			opts.BinDir = dir
			return startLocal(ctx, opts)
		}
		if ok, _ := dockerImagePresent(ctx, opts.Image); ok {
			return startDocker(ctx, opts)
		}
		return nil, ErrNoServer
	}
	return nil, fmt.Errorf("unknown backend %q", backend)
}

// WaitReady pings url until it answers or the timeout passes.
func WaitReady(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, url)
		if err == nil {
			err = conn.Ping(cctx)
			conn.Close(cctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("server not ready after %s: %w", timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
