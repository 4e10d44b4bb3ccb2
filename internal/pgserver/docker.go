package pgserver

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/wait"
)

// dockerImagePresent reports whether the daemon answers and holds image
// locally (nothing is pulled: a machine without a registry must not hang).
func dockerImagePresent(ctx context.Context, image string) (bool, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return false, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return false, fmt.Errorf("docker daemon not reachable: %w", err)
	}
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		return false, nil
	}
	return true, nil
}

// configureTestcontainers adapts testcontainers-go to a local daemon
// without a registry, unless the user configured it:
//   - the reaper (Ryuk) is turned off when its image is not present (it
//     could never start); dbtool terminates its containers itself in Stop;
//   - published ports are reached on localhost: testcontainers otherwise
//     guesses the default gateway whenever /.dockerenv exists (as on CI
//     virtual machines), which is unreachable there. Set
//     TESTCONTAINERS_HOST_OVERRIDE for Docker-in-Docker setups.
func configureTestcontainers(ctx context.Context) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		if ok, _ := dockerImagePresent(ctx, testcontainers.ReaperDefaultImage); !ok {
			os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		}
	}
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && (os.Getenv("DOCKER_HOST") == "" || strings.HasPrefix(os.Getenv("DOCKER_HOST"), "unix://")) {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "localhost")
	}
}

func startDocker(ctx context.Context, opts Options) (*Server, error) {
	present, err := dockerImagePresent(ctx, opts.Image)
	if err != nil {
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	if !present {
		return nil, fmt.Errorf("docker backend: image %q is not present locally and dbtool does not pull; "+
			"build one with `make pg-image` (then DBTOOL_PG_IMAGE=dbtool/postgres:15) or `docker pull %s`", opts.Image, opts.Image)
	}
	configureTestcontainers(ctx)
	if !opts.Verbose {
		tclog.SetDefault(tclog.NewNoopLogger())
	}
	opts.Logf("starting container %s", opts.Image)
	ctr, err := tcpostgres.Run(ctx, opts.Image,
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres"),
		tcpostgres.WithDatabase("postgres"),
		testcontainers.WithCmd("postgres", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "max_locks_per_transaction=256"),
		testcontainers.WithWaitStrategy(wait.ForListeningPort("5432/tcp").WithStartupTimeout(90*time.Second)),
	)
	if err != nil {
		if ctr != nil {
			_ = testcontainers.TerminateContainer(ctr)
		}
		return nil, fmt.Errorf("docker backend: start %s: %w", opts.Image, err)
	}
	stop := func(ctx context.Context) error {
		return testcontainers.TerminateContainer(ctr)
	}
	url, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err == nil {
		// Port open is not ready: images differ in how they initialise.
		err = WaitReady(ctx, url, 60*time.Second)
	}
	if err != nil {
		_ = stop(ctx)
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	return &Server{URL: strings.TrimSpace(url), Backend: BackendDocker, stop: stop}, nil
}
