package pgserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// The cluster started by `dbtool db start` outlives the command; a state file
// per OS user points at it so `db url` and `db stop` can find it.
func stateFile() string {
	return filepath.Join(os.TempDir(), "dbtool-db-"+strconv.Itoa(os.Getuid())+".json")
}

type dbState struct {
	Dir string `json:"dir"`
	URL string `json:"url"`
}

// ErrNotRunning is returned by DBURL and DBStop when no `db start` cluster runs.
var ErrNotRunning = errors.New("no dbtool database is running (start one with `dbtool db start`)")

// DBStart starts a persistent throwaway cluster for local work, or returns
// the URL of the one already running.
func DBStart(ctx context.Context, opts Options) (url string, started bool, err error) {
	if url, err := DBURL(); err == nil {
		return url, false, nil
	}
	opts.Persistent = true
	srv, err := startLocal(ctx, opts)
	if err != nil {
		return "", false, err
	}
	b, _ := json.Marshal(dbState{Dir: srv.Dir, URL: srv.URL})
	if err := os.WriteFile(stateFile(), b, 0o600); err != nil {
		_ = srv.Stop(ctx)
		return "", false, err
	}
	return srv.URL, true, nil
}

func readState() (dbState, error) {
	var st dbState
	b, err := os.ReadFile(stateFile())
	if err != nil {
		return st, ErrNotRunning
	}
	if json.Unmarshal(b, &st) != nil || !fileExists(filepath.Join(st.Dir, "data", "postmaster.pid")) {
		return st, ErrNotRunning
	}
	return st, nil
}

// DBURL returns the URL of the running `db start` cluster.
func DBURL() (string, error) {
	st, err := readState()
	if err != nil {
		return "", err
	}
	return st.URL, nil
}

// DBStop stops and removes the `db start` cluster.
func DBStop(ctx context.Context) error {
	st, err := readState()
	os.Remove(stateFile())
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(st.Dir, ownerFile))
	if err != nil {
		return fmt.Errorf("read cluster owner file: %w", err)
	}
	var o owner
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	cred, err := runAs()
	if err != nil {
		return err
	}
	c := &localCluster{binDir: o.BinDir, baseDir: st.Dir, dataDir: o.DataDir, cred: cred}
	return c.stop(ctx)
}
