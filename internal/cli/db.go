package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dbtool-dev/dbtool/internal/pgserver"
)

func (a *app) dbCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "db",
		Short:   "Run a throwaway PostgreSQL for local work",
		GroupID: "local",
		Long: `db start builds a PostgreSQL cluster from the local server binaries in a
temporary directory (fsync off, a free port) and leaves it running; db url
prints its URL (export DATABASE_URL=$(dbtool db url)); db stop stops it and
removes its directory.

` + exitHelp,
		Args: cobra.ArbitraryArgs,
		RunE: unknownSubcommand,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "start",
		Short: "Start the local throwaway PostgreSQL and print its URL",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			url, started, err := pgserver.DBStart(cmd.Context(), pgserver.Options{Logf: a.logf})
			if err != nil {
				return cannot(err)
			}
			if !started {
				a.logf("already running")
			}
			fmt.Fprintln(a.stdout, url)
			return nil
		},
	}, &cobra.Command{
		Use:   "url",
		Short: "Print the URL of the running local PostgreSQL",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			url, err := pgserver.DBURL()
			if err != nil {
				return problems(err)
			}
			fmt.Fprintln(a.stdout, url)
			return nil
		},
	}, &cobra.Command{
		Use:   "stop",
		Short: "Stop the local PostgreSQL and remove its directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := pgserver.DBStop(cmd.Context())
			if errors.Is(err, pgserver.ErrNotRunning) {
				a.logf("not running")
				return nil
			}
			if err != nil {
				return cannot(err)
			}
			a.logf("stopped")
			return nil
		},
	})
	return cmd
}
