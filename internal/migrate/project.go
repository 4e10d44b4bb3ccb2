package migrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/dbtool-dev/dbtool/internal/sqlscan"
)

// Project is a folder laid out like dbtool's own: versioned files in
// migrations/, repeatable definitions in procedures/ and policies/.
type Project struct {
	Dir        string // the project folder; the other paths are relative to it
	Migrations string // default "migrations" ("supabase/migrations" for the supabase layout)
	Procedures string // default "procedures"
	Policies   string // default "policies"
	// Layout is LayoutDbtool ({version}_{name}.up.sql) or LayoutSupabase
	// (<digits>_<name>.sql, as the Supabase CLI names them; the history is
	// also written to supabase_migrations.schema_migrations).
	Layout string
	// Seeds are files (globs) applied by Up when Options.Seed is set,
	// relative to Dir.
	Seeds []string
}

// Layouts of a project folder.
const (
	LayoutDbtool   = "dbtool"
	LayoutSupabase = "supabase"
)

// NoTransactionDirective on a file's first line runs its statements one by
// one outside a transaction (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD
// VALUE used later in the file, VACUUM).
const NoTransactionDirective = "-- dbtool:no-transaction"

func (p Project) withDefaults() Project {
	if p.Dir == "" {
		p.Dir = "."
	}
	if p.Layout == "" {
		p.Layout = LayoutDbtool
	}
	if p.Migrations == "" {
		p.Migrations = "migrations"
		if p.Layout == LayoutSupabase {
			p.Migrations = "supabase/migrations"
		}
	}
	if p.Procedures == "" {
		p.Procedures = "procedures"
	}
	if p.Policies == "" {
		p.Policies = "policies"
	}
	return p
}

func (p Project) abs(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(p.Dir, rel)
}

// Migration is one versioned file: {version}_{name}.up.sql, or
// <digits>_<name>.sql in the supabase layout.
type Migration struct {
	Version     uint64
	VersionText string // the version as the file name spells it (the Supabase history keeps it as text)
	Name        string
	Path        string // relative to the project folder, slash-separated
	SQL         string // the file as it is
	Checksum    string // sha256 of the file's bytes with CRLF line ends read as LF, hex
	// ExecSQL is what runs: the file with a wrapping BEGIN/COMMIT blanked
	// out (same lines), since dbtool runs each file in one transaction with
	// its history rows.
	ExecSQL string
	// NoTx: the file starts with NoTransactionDirective.
	NoTx bool
	// Statements are the file's statements as the Supabase CLI splits them
	// (what it records in supabase_migrations.schema_migrations).
	Statements []string
}

// Repeatable is one file of procedures/ or policies/, applied again
// whenever its content changes.
type Repeatable struct {
	Kind     string // "procedure" or "policy"
	Path     string // relative to the project folder, slash-separated
	SQL      string
	Checksum string
}

var (
	migrationName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_\-]+)\.up\.sql$`)
	// supabaseName is the Supabase CLI's own pattern: any name after the
	// digits, dots and a doubled .sql.sql included.
	supabaseName = regexp.MustCompile(`^([0-9]+)_(.*)\.sql$`)
	// supabaseOrderWidth: shorter Supabase versions are right-padded to it
	// so that numeric order is the CLI's file-name order.
	supabaseOrderWidth = 14
)

// ProjectError is a problem with the project's files (not with the
// database): a down migration, a malformed name, duplicate versions.
type ProjectError struct {
	Path    string
	Problem string
	Hint    string
}

func (e *ProjectError) Error() string {
	s := e.Path + ": " + e.Problem
	if e.Hint != "" {
		s += "\n  hint: " + e.Hint
	}
	return s
}

// checksum hashes a file's content; CRLF line ends count as LF, so a
// Windows checkout (core.autocrlf) does not make applied files "edited".
func checksum(b []byte) string {
	s := sha256.Sum256(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
	return hex.EncodeToString(s[:])
}

// LoadMigrations reads and validates the versioned files, sorted by version.
func (p Project) LoadMigrations() ([]Migration, error) {
	p = p.withDefaults()
	dir := p.abs(p.Migrations)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	supabase := p.Layout == LayoutSupabase
	var out []Migration
	var problems []error
	seen := map[uint64]versionFile{}
	for _, e := range entries {
		name := e.Name()
		rel := filepath.ToSlash(filepath.Join(p.Migrations, name))
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		var m []string
		if supabase {
			if m = supabaseName.FindStringSubmatch(name); m == nil {
				continue // the Supabase CLI skips such files too (Skipped lists them)
			}
		} else {
			if strings.HasSuffix(name, ".down.sql") {
				problems = append(problems, &ProjectError{Path: rel,
					Problem: "down migrations are not supported: dbtool is forward-only",
					Hint:    "revert intent with a new migration that undoes the change (`dbtool migrate new revert_<what>`), and delete this file"})
				continue
			}
			if m = migrationName.FindStringSubmatch(name); m == nil {
				problems = append(problems, &ProjectError{Path: rel,
					Problem: "not a migration file name",
					Hint:    "name versioned files {version}_{name}.up.sql, e.g. 20260101120000_create_profiles.up.sql (`dbtool migrate new NAME` does it)"})
				continue
			}
		}
		digits := m[1]
		if supabase && len(digits) < supabaseOrderWidth {
			// The Supabase CLI applies files in file-name order: a
			// 12-digit version after a 14-digit one that sorts before it
			// (20240620141100 > 20230104160241). Right-padding with zeros
			// makes numeric order that order; 14-digit timestamps (what
			// `supabase migration new` writes) keep their value.
			digits += strings.Repeat("0", supabaseOrderWidth-len(digits))
		}
		v, err := strconv.ParseUint(digits, 10, 63)
		// Version 0 is golang-migrate's business in the dbtool layout; the
		// Supabase CLI takes 000_init.sql like any other version.
		if err != nil || (v == 0 && !supabase) {
			problems = append(problems, &ProjectError{Path: rel, Problem: "version must be a positive integer that fits 63 bits"})
			continue
		}
		if prev, dup := seen[v]; dup {
			problems = append(problems, duplicateVersion(rel, m[1], prev, supabase))
			continue
		}
		seen[v] = versionFile{rel, m[1]}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		src := string(b)
		mig := Migration{Version: v, VersionText: m[1], Name: m[2], Path: rel, SQL: src, Checksum: checksum(b)}
		mig.NoTx = hasNoTxDirective(src)
		exec, perr := prepareTransactionControl(rel, src, mig.NoTx)
		if perr != nil {
			problems = append(problems, perr)
			continue
		}
		mig.ExecSQL = exec
		if supabase {
			mig.Statements = sqlscan.SplitLikeSupabase(src)
		}
		out = append(out, mig)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// versionFile is a migration's path and its version as written.
type versionFile struct{ path, text string }

// duplicateVersion explains two files that take the same place in the order.
func duplicateVersion(rel, text string, prev versionFile, supabase bool) *ProjectError {
	if !supabase {
		return &ProjectError{Path: rel, Problem: fmt.Sprintf("version %s is also used by %s", text, prev.path),
			Hint: "every migration needs its own version: rename one with a new timestamp"}
	}
	if text == prev.text {
		return &ProjectError{Path: rel, Problem: fmt.Sprintf("version %q is also used by %s", text, prev.path),
			Hint: "the Supabase CLI records one history row per version, so it would stop at the second file too: " +
				"give one of them a new version (`supabase migration new` writes a timestamp)"}
	}
	return &ProjectError{Path: rel, Problem: fmt.Sprintf("version %q and version %q of %s take the same place in dbtool's order "+
		"(versions shorter than %d digits are right-padded with zeros, so that numbered files and timestamps sort as their names do)",
		text, prev.text, prev.path, supabaseOrderWidth),
		Hint: "number the files with one width (001_, 010_) or rename them with timestamps"}
}

// Skipped lists the .sql files of the migrations folder that the supabase
// layout does not take as migrations (their names do not start with digits
// and an underscore); the Supabase CLI skips them as well.
func (p Project) Skipped() []string {
	p = p.withDefaults()
	if p.Layout != LayoutSupabase {
		return nil
	}
	entries, _ := os.ReadDir(p.abs(p.Migrations))
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") && !supabaseName.MatchString(e.Name()) {
			out = append(out, filepath.ToSlash(filepath.Join(p.Migrations, e.Name())))
		}
	}
	return out
}

func hasNoTxDirective(src string) bool {
	first, _, _ := strings.Cut(strings.TrimLeft(src, "\ufeff \t\r\n"), "\n")
	return strings.EqualFold(strings.TrimSpace(first), NoTransactionDirective)
}

// prepareTransactionControl accepts a file whose statements are wrapped in
// BEGIN ... COMMIT blocks (as Supabase CLI users often write them): they
// are blanked out, keeping every line where it was, because dbtool runs the
// file in one transaction together with its history rows. ROLLBACK or an
// unbalanced block is refused: it would commit half a file without its
// history row.
func prepareTransactionControl(rel, src string, noTx bool) (string, *ProjectError) {
	stmts := sqlscan.Split(src)
	var control []int
	for i, st := range stmts {
		if isTransactionControl(st.SQL) {
			control = append(control, i)
		}
	}
	if len(control) == 0 {
		return src, nil
	}
	// Balanced BEGIN ... COMMIT blocks (around the whole file or part of
	// it, as Supabase CLI users write them) run inside the file's single
	// transaction: stricter than the CLI (which commits each block on its
	// own), never weaker. A ROLLBACK, or an unbalanced block, is refused.
	balanced, open := true, false
	for _, i := range control {
		switch {
		case startsWith(stmts[i].SQL, "begin", "start") && !open:
			open = true
		case startsWith(stmts[i].SQL, "commit", "end") && open:
			open = false
		default:
			balanced = false
		}
	}
	wrapped := balanced && !open
	if !wrapped || noTx {
		st := stmts[control[0]]
		hint := "dbtool runs every file in one transaction and records it atomically: remove it, or keep BEGIN; ... COMMIT; balanced"
		if noTx {
			hint = "a " + NoTransactionDirective + " file runs its statements one by one, each on its own: remove the transaction control"
		}
		return "", &ProjectError{Path: fmt.Sprintf("%s:%d", rel, st.Line),
			Problem: "transaction control (" + strings.ToUpper(sqlscan.FirstWords(st.SQL, 1)[0]) + ") in a migration file", Hint: hint}
	}
	b := []byte(src)
	for _, i := range control {
		blank(b, stmts[i].Offset, len(stmts[i].SQL))
	}
	return string(b), nil
}

func startsWith(sql string, words ...string) bool {
	w := sqlscan.FirstWords(sql, 1)
	if len(w) == 0 {
		return false
	}
	for _, x := range words {
		if w[0] == x {
			return true
		}
	}
	return false
}

// isTransactionControl: BEGIN [WORK|TRANSACTION|ISOLATION...], START
// TRANSACTION, COMMIT, END, ROLLBACK, ABORT (not BEGIN ATOMIC, not a
// plpgsql block the scanner saw whole).
func isTransactionControl(sql string) bool {
	w := sqlscan.FirstWords(sql, 2)
	if len(w) == 0 {
		return false
	}
	switch w[0] {
	case "begin":
		return len(w) == 1 || w[1] == "transaction" || w[1] == "work" || w[1] == "isolation" || w[1] == "read"
	case "start":
		return len(w) > 1 && w[1] == "transaction"
	case "commit", "rollback", "abort":
		return len(w) == 1 || w[1] == "transaction" || w[1] == "work" || w[1] == "and"
	case "end":
		return len(w) == 1 || w[1] == "transaction" || w[1] == "work"
	}
	return false
}

// LoadRepeatables reads procedures/ then policies/ (recursively, *.sql), in
// the order they are applied: procedures first, each folder by path.
func (p Project) LoadRepeatables() ([]Repeatable, error) {
	p = p.withDefaults()
	var out []Repeatable
	for _, set := range []struct{ kind, dir string }{{KindProcedure, p.Procedures}, {KindPolicy, p.Policies}} {
		root := p.abs(set.dir)
		var files []Repeatable
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == root {
					return filepath.SkipDir
				}
				return err
			}
			if d.IsDir() || !strings.HasSuffix(d.Name(), ".sql") {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files = append(files, Repeatable{Kind: set.kind, Path: filepath.ToSlash(filepath.Join(set.dir, rel)), SQL: string(b), Checksum: checksum(b)})
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
		out = append(out, files...)
	}
	return out, nil
}

// Kinds of repeatable files.
const (
	KindProcedure = "procedure"
	KindPolicy    = "policy"
	KindMigration = "migration"
)
