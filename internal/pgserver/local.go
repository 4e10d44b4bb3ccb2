package pgserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dirPrefix names every throwaway cluster directory, so a later run can find
// and reap the ones a killed process left behind.
const dirPrefix = "dbtool-pg-"

// ownerFile records which process owns a throwaway cluster; a cluster whose
// owner is gone is stopped and removed by the next Start (see reapStale).
const ownerFile = "dbtool-owner.json"

type owner struct {
	PID        int    `json:"pid"`
	Persistent bool   `json:"persistent"` // started by `dbtool db start`: never reaped
	DataDir    string `json:"data_dir"`
	Port       int    `json:"port"`
	URL        string `json:"url"`
	BinDir     string `json:"bin_dir"`
}

// FindBinDir locates the PostgreSQL server binaries: initdb on PATH, then
// `pg_config --bindir`, then the newest /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if fileExists(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if fileExists(filepath.Join(dir, "initdb")) && fileExists(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return pgMajor(matches[i]) > pgMajor(matches[j]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if fileExists(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func pgMajor(path string) int {
	// /usr/lib/postgresql/15/bin/initdb -> 15
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// runAs returns the credential to run PostgreSQL binaries with: initdb and
// postgres refuse to run as root, so root drops to the "postgres" OS user
// (or "nobody" when there is none).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and no unprivileged OS user (postgres or nobody) exists to run PostgreSQL as")
}

// localCluster is a throwaway PostgreSQL cluster in a temporary directory.
type localCluster struct {
	binDir   string
	baseDir  string // holds data/, the unix socket, the log and the owner file
	dataDir  string
	port     int
	cred     *syscall.Credential
	settings map[string]string
}

func (c *localCluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	// Own process group: a Ctrl-C at the terminal reaches dbtool, which then
	// stops the cluster in order, instead of killing postgres under its feet.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	return cmd
}

func runCmd(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// startLocal creates, tunes and starts a throwaway cluster. On any error
// everything it created is removed again.
func startLocal(ctx context.Context, opts Options) (_ *Server, err error) {
	binDir := opts.BinDir
	if binDir == "" {
		if binDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	reapStale(binDir)

	base, err := os.MkdirTemp(clusterRoot(), dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	settings := opts.Settings
	if opts.LikeSupabase {
		settings = supabaseSettings(binDir, settings)
	}
	c := &localCluster{binDir: binDir, baseDir: base, dataDir: filepath.Join(base, "data"), cred: cred, settings: settings}
	defer func() {
		if err != nil {
			c.stop(context.WithoutCancel(ctx))
		}
	}()
	if cred != nil {
		if err := os.Chown(base, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("hand cluster directory to uid %d: %w", cred.Uid, err)
		}
	}
	if err := os.Chmod(base, 0o700); err != nil {
		return nil, err
	}
	if err := runCmd(c.command(ctx, "initdb", "-D", c.dataDir, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")); err != nil {
		return nil, fmt.Errorf("initdb: %w", err)
	}
	// A port can be taken between probing and binding: retry a few times.
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = c.writeOwner(opts.Persistent); err != nil {
			return nil, err
		}
		err = runCmd(c.command(ctx, "pg_ctl", "start", "-w", "-t", "60", "-s", "-D", c.dataDir,
			"-l", filepath.Join(c.baseDir, "postgres.log"), "-o", c.serverOptions()))
		if err == nil {
			break
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(c.baseDir, "postgres.log"))
			return nil, fmt.Errorf("pg_ctl start: %w\n%s", err, lastLines(string(log), 10))
		}
	}
	srv := &Server{
		URL:     fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port),
		Backend: BackendLocal,
		Dir:     base,
		stop:    c.stop,
	}
	if err = c.writeOwner(opts.Persistent); err != nil {
		return nil, err
	}
	return srv, nil
}

// serverOptions tunes the cluster for tests: no durability, enough
// connections for parallel tests and races, a private unix socket.
func (c *localCluster) serverOptions() string {
	settings := []string{
		"-p", strconv.Itoa(c.port),
		"-k", c.baseDir,
		"-h", "127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=300",
		"-c", "shared_buffers=128MB",
		"-c", "max_locks_per_transaction=256",
		"-c", "log_min_messages=warning",
		"-c", "timezone=UTC",
	}
	keys := make([]string, 0, len(c.settings))
	for k := range c.settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		settings = append(settings, "-c", k+"="+c.settings[k])
	}
	return strings.Join(settings, " ")
}

func (c *localCluster) writeOwner(persistent bool) error {
	o := owner{PID: os.Getpid(), Persistent: persistent, DataDir: c.dataDir, Port: c.port, BinDir: c.binDir,
		URL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)}
	b, _ := json.MarshalIndent(o, "", "  ")
	return os.WriteFile(filepath.Join(c.baseDir, ownerFile), b, 0o644)
}

// stop shuts the cluster down immediately and removes its directory.
func (c *localCluster) stop(ctx context.Context) error {
	var errs []error
	if fileExists(filepath.Join(c.dataDir, "postmaster.pid")) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := runCmd(c.command(ctx, "pg_ctl", "stop", "-s", "-w", "-m", "immediate", "-D", c.dataDir)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(c.baseDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// reapStale stops and removes throwaway clusters whose owning process has
// died without cleaning up (SIGKILL, OOM, power loss of a terminal...).
func reapStale(binDir string) {
	var dirs []string
	for _, root := range clusterRoots() {
		m, _ := filepath.Glob(filepath.Join(root, dirPrefix+"*"))
		dirs = append(dirs, m...)
	}
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			// No owner file: either being created right now or pre-owner crash.
			// Only reap when it is old enough not to be a cluster in creation.
			if st, err := os.Stat(dir); err == nil && time.Since(st.ModTime()) > 10*time.Minute {
				reapDir(dir, filepath.Join(dir, "data"), binDir)
			}
			continue
		}
		var o owner
		if json.Unmarshal(b, &o) != nil || o.Persistent || processAlive(o.PID) {
			continue
		}
		if o.BinDir != "" {
			binDir = o.BinDir
		}
		reapDir(dir, o.DataDir, binDir)
	}
}

func reapDir(dir, dataDir, binDir string) {
	cred, _ := runAs()
	c := &localCluster{binDir: binDir, baseDir: dir, dataDir: dataDir, cred: cred}
	_ = c.stop(context.Background())
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A zombie (exited, not yet reaped by its parent) is not alive.
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return false
		}
	}
	return true
}

// clusterRoot is where throwaway clusters live: DBTOOL_TMPDIR when set, else
// /dev/shm when it is a writable memory file system with room (cloning a
// database there takes ~20 ms instead of ~300 ms on a slow disk), else the
// system's temporary directory.
func clusterRoot() string {
	if d := os.Getenv("DBTOOL_TMPDIR"); d != "" {
		return d
	}
	var st syscall.Statfs_t
	const tmpfsMagic = 0x01021994
	if err := syscall.Statfs("/dev/shm", &st); err == nil && st.Type == tmpfsMagic &&
		uint64(st.Bavail)*uint64(st.Bsize) > 1<<30 && syscall.Access("/dev/shm", 2) == nil {
		return "/dev/shm"
	}
	return os.TempDir()
}

func clusterRoots() []string {
	roots := []string{os.TempDir(), "/dev/shm"}
	if d := os.Getenv("DBTOOL_TMPDIR"); d != "" {
		roots = append(roots, d)
	}
	return roots
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// supabaseSettings adds to settings what hosted Supabase's server has
// preloaded, for the libraries installed next to binDir: pg_cron (its jobs
// live in the database postgres, as on Supabase). Without the preload,
// `create extension pg_cron` fails with 'unrecognized configuration
// parameter "cron.database_name"'.
func supabaseSettings(binDir string, settings map[string]string) map[string]string {
	if _, ok := settings["shared_preload_libraries"]; ok {
		return settings
	}
	if _, err := os.Stat(filepath.Join(binDir, "..", "lib", "pg_cron.so")); err != nil {
		return settings
	}
	out := map[string]string{"shared_preload_libraries": "pg_cron", "cron.database_name": "postgres"}
	for k, v := range settings {
		out[k] = v
	}
	return out
}
