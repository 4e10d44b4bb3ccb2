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
	"encoding/json"
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
	supabase, hasTable, err := detect(ctx, conn)
	res.Supabase = supabase
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
	ok, _, err := detect(ctx, conn)
	return ok, err
}

// detect: a real Supabase database has the platform's admin roles and
// auth.users, and dbtool did not install them (this layer creates both
// since version 2, and records itself in dbtool.platform).
func detect(ctx context.Context, conn *pgx.Conn) (supabase, hasTable bool, err error) {
	var looks bool
	err = conn.QueryRow(ctx, `
		select exists (select 1 from pg_roles where rolname in ('supabase_admin', 'supabase_auth_admin'))
		   and to_regclass('auth.users') is not null,
		       to_regclass('dbtool.platform') is not null`).Scan(&looks, &hasTable)
	if err != nil || !looks {
		return false, hasTable, err
	}
	if !hasTable {
		return true, false, nil
	}
	var ours bool
	if err := conn.QueryRow(ctx, `select exists (select 1 from dbtool.platform)`).Scan(&ours); err != nil {
		return false, hasTable, err
	}
	return !ours, hasTable, nil
}

// Profiles of the platform's default privileges: what a new table,
// sequence or function in public grants to the API roles.
const (
	// ProfileDbtool: deny by default (dbtool's reference backbone). New
	// functions are not executable by PUBLIC; every grant is explicit.
	ProfileDbtool = "dbtool"
	// ProfileSupabase: today's Supabase (projects since the 2026 change):
	// new tables are not exposed, yet TRUNCATE, REFERENCES and TRIGGER are
	// still granted to the API roles, and new functions stay executable
	// through PUBLIC.
	ProfileSupabase = "supabase"
	// ProfileSupabaseAutoExpose: Supabase projects created before the 2026
	// change: ALL on new tables, sequences and functions in public to anon,
	// authenticated and service_role.
	ProfileSupabaseAutoExpose = "supabase-auto-expose"
)

var profileSQL = map[string]string{
	ProfileDbtool: `
alter default privileges revoke execute on functions from public;`,
	ProfileSupabase: `
alter default privileges grant execute on functions to public;
alter default privileges in schema public grant truncate, references, trigger on tables to anon, authenticated, service_role;`,
	ProfileSupabaseAutoExpose: `
alter default privileges grant execute on functions to public;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;`,
}

// resetProfileSQL undoes every profile's default privileges for the
// current role.
const resetProfileSQL = `
alter default privileges in schema public revoke all on tables from anon, authenticated, service_role;
alter default privileges in schema public revoke all on sequences from anon, authenticated, service_role;
alter default privileges in schema public revoke all on functions from anon, authenticated, service_role;`

// ApplyProfile sets the default privileges of profile for the current role
// (the role that creates the project's objects), unless they are set
// already. It is recorded in dbtool.platform_profile. On a real Supabase
// database it does nothing (the platform has its own).
func ApplyProfile(ctx context.Context, conn *pgx.Conn, profile string) error {
	if profile == "" {
		profile = ProfileDbtool
	}
	body, ok := profileSQL[profile]
	if !ok {
		return fmt.Errorf("platform profile %q: want %s, %s or %s", profile, ProfileDbtool, ProfileSupabase, ProfileSupabaseAutoExpose)
	}
	var current string
	err := conn.QueryRow(ctx, `select coalesce((select profile from dbtool.platform_profile where role = current_user), '')`).Scan(&current)
	if err != nil {
		// No table yet: create it (the dbtool schema exists).
		if _, err := conn.Exec(ctx, `create table if not exists dbtool.platform_profile (role name primary key, profile text not null, applied_at timestamptz not null default now())`); err != nil {
			return err
		}
		current = ""
	}
	if current == profile {
		return nil
	}
	if current == "" && profile == ProfileDbtool {
		// Version 1 of the layer set the dbtool profile already.
		_, err := conn.Exec(ctx, `insert into dbtool.platform_profile (role, profile) values (current_user, $1)
			on conflict (role) do update set profile = excluded.profile, applied_at = now()`, profile)
		return err
	}
	script := "begin;\n" + resetProfileSQL + body + fmt.Sprintf(`
insert into dbtool.platform_profile (role, profile) values (current_user, '%s')
  on conflict (role) do update set profile = excluded.profile, applied_at = now();
commit;`, profile)
	_, err = conn.Exec(ctx, script)
	return err
}

// User is a user as the auth server creates one.
type User struct {
	Email        string
	Phone        string
	AppMetadata  map[string]any // default {"provider": "email", "providers": ["email"]}
	UserMetadata map[string]any // raw_user_meta_data: what the sign-up form sent
	Anonymous    bool
}

// Querier runs a query returning one row (a *pgx.Conn or a pgx.Tx).
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CreateUser inserts a user the way Supabase Auth does on sign-up: it
// generates the id and fills aud, role, e-mail (confirmed), the metadata
// and the timestamps, then the e-mail identity, so the project's own
// triggers on auth.users (a handle_new_user that reads
// raw_user_meta_data) run as in production. An error from such a trigger
// is returned as is (its SQLSTATE and message name the problem).
func CreateUser(ctx context.Context, q Querier, u User) (string, error) {
	app := u.AppMetadata
	if app == nil {
		app = map[string]any{"provider": "email", "providers": []string{"email"}}
	}
	user := u.UserMetadata
	if user == nil {
		user = map[string]any{}
	}
	appJSON, _ := json.Marshal(app)
	userJSON, _ := json.Marshal(user)
	var phone *string
	if u.Phone != "" {
		phone = &u.Phone
	}
	var email *string
	if u.Email != "" {
		email = &u.Email
	}
	var id string
	err := q.QueryRow(ctx, `
		with u as (
		  insert into auth.users (instance_id, id, aud, role, email, phone, encrypted_password, email_confirmed_at,
		                          raw_app_meta_data, raw_user_meta_data, is_anonymous, created_at, updated_at)
		  values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', $1::text, $2::text, '',
		          case when $1::text is not null then now() end, $3, $4, $5, now(), now())
		  returning id, email
		), i as (
		  insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
		  select u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true), 'email', now(), now(), now()
		  from u where u.email is not null
		  returning 1
		)
		select id::text from u`, email, phone, appJSON, userJSON, u.Anonymous).Scan(&id)
	return id, err
}
