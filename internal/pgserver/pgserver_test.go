package pgserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestLocalClusterLifecycle(t *testing.T) {
	if _, err := FindBinDir(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	srv, err := Start(ctx, Options{Backend: BackendLocal})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var fsync string
	if err := conn.QueryRow(ctx, "show fsync").Scan(&fsync); err != nil {
		t.Fatal(err)
	}
	if fsync != "off" {
		t.Errorf("fsync = %s, want off (cluster tuned for tests)", fsync)
	}
	var pid int
	b, err := os.ReadFile(filepath.Join(srv.Dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid = atoi(strings.SplitN(string(b), "\n", 2)[0])
	conn.Close(ctx)

	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.Dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s still exists after Stop", srv.Dir)
	}
	if processAlive(pid) {
		t.Errorf("postmaster %d still running after Stop", pid)
	}
	if err := srv.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// A process that dies without cleaning up (SIGKILL) leaves a cluster behind;
// the next Start reaps it.
func TestStaleClusterReaped(t *testing.T) {
	if _, err := FindBinDir(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	// Start a cluster in a child process, then SIGKILL the child.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperHoldCluster$")
	cmd.Env = append(os.Environ(), "DBTOOL_HELPER_HOLD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var dir string
	deadline := time.Now().Add(30 * time.Second)
	var acc string
	for time.Now().Before(deadline) && !strings.Contains(acc, "\n") {
		n, err := out.Read(buf)
		acc += string(buf[:n])
		if err != nil {
			break
		}
	}
	for _, line := range strings.Split(acc, "\n") {
		if d, ok := strings.CutPrefix(line, "DIR="); ok {
			dir = strings.TrimSpace(d)
		}
	}
	if dir == "" {
		cmd.Process.Kill()
		t.Fatalf("child did not report its cluster: %q", acc)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("expected the orphaned cluster %s to exist: %v", dir, err)
	}
	srv, err := Start(ctx, Options{Backend: BackendLocal})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(ctx)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("orphaned cluster %s was not reaped", dir)
	}
}

func TestHelperHoldCluster(t *testing.T) {
	if os.Getenv("DBTOOL_HELPER_HOLD") != "1" {
		t.Skip("helper process for TestStaleClusterReaped")
	}
	srv, err := Start(context.Background(), Options{Backend: BackendLocal})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("DIR=" + srv.Dir + "\n")
	time.Sleep(time.Minute)
}

func TestAutoWithURLUsesIt(t *testing.T) {
	srv, err := Start(context.Background(), Options{URL: "postgres://example.invalid/db"})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Backend != BackendURL || srv.URL != "postgres://example.invalid/db" {
		t.Errorf("got %+v", srv)
	}
}

func TestParseBackend(t *testing.T) {
	for _, ok := range []string{"", "auto", "local", "docker", "url", "LOCAL"} {
		if _, err := ParseBackend(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if _, err := ParseBackend("podman"); err == nil {
		t.Error("podman accepted")
	}
}

func TestDockerMissingImageIsClear(t *testing.T) {
	if ok, err := dockerImagePresent(context.Background(), "busybox:1"); err != nil {
		t.Skip("no docker daemon: ", err)
	} else if ok {
		t.Skip("image unexpectedly present")
	}
	_, err := Start(context.Background(), Options{Backend: BackendDocker, Image: "dbtool/absent-image:0"})
	if err == nil || !strings.Contains(err.Error(), "make pg-image") {
		t.Fatalf("want a clear missing-image error naming make pg-image, got %v", err)
	}
}

// BenchmarkLocalStart measures a throwaway cluster from nothing to the
// first answered query, and its teardown (target: median under 1.5 s).
func BenchmarkLocalStart(b *testing.B) {
	if _, err := FindBinDir(); err != nil {
		b.Skip(err)
	}
	ctx := context.Background()
	for b.Loop() {
		srv, err := Start(ctx, Options{Backend: BackendLocal})
		if err != nil {
			b.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		conn.Close(ctx)
		b.StopTimer()
		srv.Stop(ctx)
		b.StartTimer()
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range strings.TrimSpace(s) {
		n = n*10 + int(c-'0')
	}
	return n
}
