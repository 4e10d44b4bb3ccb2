// Command dbtool migrates, tests and checks PostgreSQL/Supabase databases.
package main

import (
	"os"

	"github.com/dbtool-dev/dbtool/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
