package migrate

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// The dbtool schema holds dbtool's own ledger. It is never exposed through
// the API (no grants to anon/authenticated).
const bootstrapSQL = `
create schema if not exists dbtool;
comment on schema dbtool is 'dbtool''s ledger (migrations, repeatable files, platform layer, object snapshot). Not part of the API.';
create table if not exists dbtool.migrations (
  version    bigint primary key,
  name       text not null,
  checksum   text not null,
  applied_at timestamptz not null default clock_timestamp()
);
create table if not exists dbtool.repeatables (
  path       text primary key,
  kind       text not null check (kind in ('procedure', 'policy')),
  checksum   text not null,
  content    text not null,
  applied_at timestamptz not null default clock_timestamp()
);
create table if not exists dbtool.platform (
  version    integer primary key,
  name       text not null,
  checksum   text not null,
  applied_at timestamptz not null default now()
);
create table if not exists dbtool.snapshot (
  taken_at timestamptz not null default now(),
  objects  jsonb not null  -- "kind object" -> fingerprint, as of the last migrate
);
`

// ensureLedger creates dbtool's schema and tables unless they exist (one
// cheap look-up on every run after the first).
func ensureLedger(ctx context.Context, conn *pgx.Conn) error {
	var ok bool
	if err := conn.QueryRow(ctx, `select to_regclass('dbtool.snapshot') is not null and to_regclass('dbtool.platform') is not null`).Scan(&ok); err != nil {
		return err
	}
	if ok {
		return nil
	}
	_, err := conn.Exec(ctx, bootstrapSQL)
	return err
}

// gmTable is where golang-migrate keeps its version (schema dbtool, so the
// API schema stays clean).
const (
	gmSchema = "dbtool"
	gmTable  = "schema_migrations"
)

type appliedMigration struct {
	Version   uint64
	Name      string
	Checksum  string
	AppliedAt time.Time
}

type appliedRepeatable struct {
	Path      string
	Kind      string
	Checksum  string
	Content   string
	AppliedAt time.Time
}

type ledgerState struct {
	migrations  map[uint64]appliedMigration
	repeatables map[string]appliedRepeatable
	gmVersion   int64 // -1: none
	gmDirty     bool
	exists      bool // the dbtool schema exists
}

func (s ledgerState) maxApplied() uint64 {
	var m uint64
	for v := range s.migrations {
		if v > m {
			m = v
		}
	}
	return m
}

// readLedger reads dbtool's ledger and golang-migrate's version row. A
// database dbtool never touched reads as empty.
func readLedger(ctx context.Context, conn *pgx.Conn) (ledgerState, error) {
	st := ledgerState{migrations: map[uint64]appliedMigration{}, repeatables: map[string]appliedRepeatable{}, gmVersion: -1}
	var hasLedger, hasGM bool
	err := conn.QueryRow(ctx, `select to_regclass('dbtool.repeatables') is not null, to_regclass('dbtool.schema_migrations') is not null`).Scan(&hasLedger, &hasGM)
	if err != nil {
		return st, err
	}
	if !hasLedger {
		return st, nil
	}
	st.exists = true
	rows, err := conn.Query(ctx, `select version, name, checksum, applied_at from dbtool.migrations`)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var m appliedMigration
		if err := rows.Scan(&m.Version, &m.Name, &m.Checksum, &m.AppliedAt); err != nil {
			return st, err
		}
		st.migrations[m.Version] = m
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	rows, err = conn.Query(ctx, `select path, kind, checksum, content, applied_at from dbtool.repeatables`)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var r appliedRepeatable
		if err := rows.Scan(&r.Path, &r.Kind, &r.Checksum, &r.Content, &r.AppliedAt); err != nil {
			return st, err
		}
		st.repeatables[r.Path] = r
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	if hasGM {
		err := conn.QueryRow(ctx, `select version, dirty from dbtool.schema_migrations limit 1`).Scan(&st.gmVersion, &st.gmDirty)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return st, err
		}
	}
	return st, nil
}
