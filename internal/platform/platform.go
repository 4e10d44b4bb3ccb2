// Package platform installs dbtool's Supabase compatibility layer on plain
// PostgreSQL: the API roles (anon, authenticated, service_role,
// authenticator), the auth schema with auth.users and the claim functions
// auth.uid(), auth.role(), auth.email() and auth.jwt(), and a default
// privilege that keeps new functions from being executable by PUBLIC.
//
// The layer is versioned: each embedded file sql/NNN_*.sql is one version,
// applied once in its own transaction and recorded in dbtool.platform. On a
// real Supabase database nothing is installed.
package platform

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed sql/*.sql
var files embed.FS

// Version is one file of the platform layer.
type Version struct {
	Number int
	Name   string
	SQL    string
}

// Versions returns the layer's files in order.
func Versions() []Version {
	entries, _ := fs.ReadDir(files, "sql")
	var out []Version
	for _, e := range entries {
		num, name, _ := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		n, err := strconv.Atoi(num)
		if err != nil {
			panic("platform: bad file name " + e.Name())
		}
		b, _ := files.ReadFile("sql/" + e.Name())
		out = append(out, Version{Number: n, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// Checksum identifies the layer's content (it is part of what a test
// template is built from).
func Checksum() string {
	h := sha256.New()
	for _, v := range Versions() {
		fmt.Fprintf(h, "%d\x00%s\x00", v.Number, v.SQL)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Roles lists the cluster-wide roles the layer relies on.
var Roles = []string{"anon", "authenticated", "service_role", "authenticator"}

// Result says what Install did.
type Result struct {
	Supabase bool  // a real Supabase database: nothing installed
	Applied  []int // versions applied now
}

// Install applies the layer's pending versions. The dbtool schema must exist
// (see the migrate package). Each version runs in its own transaction, sent
// as one round trip.
func Install(ctx context.Context, conn *pgx.Conn) (Result, error) {
	var res Result
	var hasTable bool
	err := conn.QueryRow(ctx, `
		select exists (select 1 from pg_roles where rolname in ('supabase_admin', 'supabase_auth_admin'))
		         and to_regclass('auth.users') is not null,
		       to_regclass('dbtool.platform') is not null`).Scan(&res.Supabase, &hasTable)
	if err != nil {
		return res, fmt.Errorf("detect Supabase: %w", err)
	}
	if res.Supabase {
		return res, nil
	}
	if !hasTable {
		if _, err := conn.Exec(ctx, `create table if not exists dbtool.platform (
			version    integer primary key,
			name       text not null,
			checksum   text not null,
			applied_at timestamptz not null default now())`); err != nil {
			return res, err
		}
	}
	var applied []int32
	if err := conn.QueryRow(ctx, `select coalesce(array_agg(version), '{}') from dbtool.platform`).Scan(&applied); err != nil {
		return res, err
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[int(v)] = true
	}
	for _, v := range Versions() {
		if done[v.Number] {
			continue
		}
		sum := sha256.Sum256([]byte(v.SQL))
		// One simple-protocol message: PostgreSQL runs it as one transaction.
		// The advisory lock serialises installs of one database; roles are
		// cluster-wide and the layer tolerates concurrent creation by other
		// databases.
		script := "select pg_advisory_xact_lock(hashtext('dbtool.platform'));\n" + v.SQL +
			fmt.Sprintf("\n;\ninsert into dbtool.platform (version, name, checksum) values (%d, '%s', '%s') on conflict (version) do nothing;\n",
				v.Number, strings.ReplaceAll(v.Name, "'", "''"), hex.EncodeToString(sum[:]))
		if _, err := conn.Exec(ctx, script); err != nil {
			return res, fmt.Errorf("platform layer %03d_%s: %w", v.Number, v.Name, err)
		}
		res.Applied = append(res.Applied, v.Number)
	}
	return res, nil
}

// IsSupabase reports whether the database is a real Supabase database: its
// auth schema and admin roles come with the platform, not with dbtool.
func IsSupabase(ctx context.Context, conn *pgx.Conn) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `
		select exists (select 1 from pg_roles where rolname in ('supabase_admin', 'supabase_auth_admin'))
		   and to_regclass('auth.users') is not null`).Scan(&ok)
	return ok, err
}
