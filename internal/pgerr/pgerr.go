// Package pgerr is the one place that inspects PostgreSQL errors
// (*pgconn.PgError): it extracts SQLSTATEs, maps error positions to file
// lines, and adds dbtool's hints for known traps. Other packages ask it
// questions instead of looking at driver errors themselves.
package pgerr

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbtool-dev/dbtool/internal/sqlscan"
)

// Well-known SQLSTATEs dbtool reacts to.
const (
	InsufficientPrivilege = "42501"
	LockNotAvailable      = "55P03"
	QueryCanceled         = "57014"
	DuplicateObject       = "42710"
	UniqueViolation       = "23505"
	InfiniteRecursion     = "42P17"
)

// PG returns the PostgreSQL error inside err, if any.
func PG(err error) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe, true
	}
	return nil, false
}

// SQLState returns err's SQLSTATE, or "" when it is not a server error.
func SQLState(err error) string {
	if pe, ok := PG(err); ok {
		return pe.Code
	}
	return ""
}

// FileError is a failure of SQL from a project file, located in that file.
type FileError struct {
	File       string // path as the user knows it (relative to the project)
	Line       int    // 1-based; 0 when unknown
	Column     int
	SQLState   string
	Message    string
	Detail     string
	Hint       string // PostgreSQL's hint
	Where      string // context (e.g. the PL/pgSQL line)
	Constraint string
	Trap       string // dbtool's hint for a known trap
	Err        error
}

func (e *FileError) Error() string {
	var b strings.Builder
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
		if e.Column > 0 {
			loc = fmt.Sprintf("%s:%d", loc, e.Column)
		}
	}
	if e.SQLState != "" {
		fmt.Fprintf(&b, "%s: ERROR %s: %s", loc, e.SQLState, e.Message)
	} else {
		fmt.Fprintf(&b, "%s: %s", loc, e.Message)
	}
	for _, kv := range [][2]string{{"detail", e.Detail}, {"hint", e.Hint}, {"where", e.Where}, {"constraint", e.Constraint}, {"dbtool hint", e.Trap}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "\n  %s: %s", kv[0], strings.ReplaceAll(kv[1], "\n", "\n    "))
		}
	}
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// InFile describes err as a failure of src, the content of file. offset is
// the byte offset of the executed text within src (0 when the whole file was
// sent); it turns the server's character position into a file line.
func InFile(err error, file, src string, offset int) *FileError {
	fe := &FileError{File: file, Message: err.Error(), Err: err}
	pe, ok := PG(err)
	if !ok {
		return fe
	}
	fe.SQLState, fe.Message, fe.Detail, fe.Hint, fe.Where, fe.Constraint = pe.Code, pe.Message, pe.Detail, pe.Hint, pe.Where, pe.ConstraintName
	if pe.Position > 0 {
		prefixChars := len([]rune(src[:offset]))
		if l, c, ok := sqlscan.LineCol(src, int(pe.Position)+prefixChars); ok {
			fe.Line, fe.Column = l, c
		}
	}
	fe.Trap = trapHint(pe, src)
	return fe
}

var inlineIndex = regexp.MustCompile(`(?is)create\s+table[^;]*,\s*(unique\s+)?(index|key)\s+\w*\s*\(`)

// trapHint recognises mistakes that PostgreSQL's own message does not
// explain well.
func trapHint(pe *pgconn.PgError, src string) string {
	msg := strings.ToLower(pe.Message)
	switch {
	case (pe.Code == "42601" || (pe.Code == "42704" && strings.HasPrefix(msg, "type "))) && inlineIndex.MatchString(src):
		return "PostgreSQL has no inline INDEX/KEY clause in CREATE TABLE (that is MySQL syntax): " +
			"declare the table, then `create index <table>_<column>_idx on <table> (<column>);` as a separate statement"
	case pe.Code == "0A000" && strings.HasPrefix(msg, "extension ") && strings.Contains(msg, "is not available"):
		return extensionHint(pe.Message)
	case pe.Code == "25001" && strings.Contains(msg, "concurrently"):
		return "CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction: put it in a file of its own whose first line is " +
			"`-- dbtool:no-transaction` (its statements then run one by one)"
	case pe.Code == "55P04" || (pe.Code == "0A000" && strings.Contains(msg, "enum")):
		return "a value added with ALTER TYPE ... ADD VALUE cannot be used in the same transaction: " +
			"add the value in one migration file and use it in the next"
	case pe.Code == LockNotAvailable:
		return "lock_timeout expired waiting for a lock held by other sessions (production traffic, a long transaction): " +
			"retry when it is quieter, or raise --ddl-lock-timeout"
	case pe.Code == QueryCanceled && strings.Contains(msg, "statement timeout"):
		return "the statement ran longer than statement_timeout: raise --statement-timeout for heavy data migrations"
	case pe.Code == "42883" && strings.Contains(msg, "uuid_generate_v4"):
		return "uuid_generate_v4() needs the uuid-ossp extension; gen_random_uuid() is built in since PostgreSQL 13"
	case pe.Code == "42704" && strings.Contains(msg, "role") &&
		(strings.Contains(msg, "anon") || strings.Contains(msg, "authenticated") || strings.Contains(msg, "service_role")):
		return "the Supabase API roles are missing: dbtool installs them before migrating on plain PostgreSQL " +
			"(the connecting user needs CREATEROLE)"
	case pe.Code == "3F000" && strings.Contains(msg, `"auth"`):
		return "schema auth is missing: dbtool's platform layer provides it on plain PostgreSQL"
	case pe.Code == "42P07" || pe.Code == DuplicateObject:
		return "the object already exists: it may have been created by hand or by an earlier file; " +
			"use IF NOT EXISTS, or reconcile the database with the files (dbtool migrate verify)"
	case pe.Code == "25P01" || pe.Code == "25P02" || (pe.Code == "0A000" && strings.Contains(msg, "transaction")):
		return "migration files run in a transaction dbtool manages: wrap the whole file in BEGIN; ... COMMIT; or none, " +
			"or mark a file that must run outside a transaction with `-- dbtool:no-transaction` on its first line"
	}
	return ""
}

// extensionPackages maps extensions to the package that provides them for
// PostgreSQL 15: Debian's own (bookworm), or, marked pgdg, only the
// PostgreSQL project's apt repository (apt.postgresql.org). The others
// exist only in Supabase's image.
var extensionPackages = map[string]struct {
	pkg  string
	pgdg bool
}{
	"vector":        {"postgresql-15-pgvector", true},
	"pg_cron":       {"postgresql-15-cron", false},
	"pgtap":         {"postgresql-15-pgtap", false},
	"plpgsql_check": {"postgresql-15-plpgsql-check", false},
	"hypopg":        {"postgresql-15-hypopg", false},
	"plprofiler":    {"postgresql-15-plprofiler", false},
	"postgis":       {"postgresql-15-postgis-3", false},
	"pg_repack":     {"postgresql-15-repack", false},
	"pgaudit":       {"postgresql-15-pgaudit", false},
	"pg_partman":    {"postgresql-15-partman", false},
	"http":          {"postgresql-15-http", true},
	"pg_hashids":    {"postgresql-15-pg-hashids", true},
	"rum":           {"postgresql-15-rum", false},
	"timescaledb":   {"timescaledb-2-postgresql-15 (Timescale's repository)", false},
	"wal2json":      {"postgresql-15-wal2json", false},
	"pgjwt":         {"postgresql-15-pgjwt", true},
}

var extName = regexp.MustCompile(`extension "([^"]+)"`)

// extensionHint says how to get an extension the server lacks. The
// database is unchanged (the file rolled back).
func extensionHint(message string) string {
	m := extName.FindStringSubmatch(message)
	if m == nil {
		return ""
	}
	ext := m[1]
	if p, ok := extensionPackages[ext]; ok {
		from := ""
		if p.pgdg {
			from = ", from the PostgreSQL project's repository apt.postgresql.org: Debian has no such package"
		}
		return fmt.Sprintf("the server lacks the %s extension: install the %s package on the PostgreSQL server "+
			"(apt-get install %s%s), or run with --backend docker and DBTOOL_PG_IMAGE=supabase/postgres:<version>; the database was left as it was",
			ext, p.pkg, strings.Fields(p.pkg)[0], from)
	}
	return fmt.Sprintf("the %s extension is part of Supabase's own image and has no Debian package: run with --backend docker and "+
		"DBTOOL_PG_IMAGE=supabase/postgres:<version> (where the image can be pulled), or keep the statements that need it out of "+
		"what you test locally; the database was left as it was", ext)
}
