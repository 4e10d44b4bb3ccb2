package migrate

import (
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
	Migrations string // default "migrations"
	Procedures string // default "procedures"
	Policies   string // default "policies"
}

func (p Project) withDefaults() Project {
	if p.Dir == "" {
		p.Dir = "."
	}
	if p.Migrations == "" {
		p.Migrations = "migrations"
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

// Migration is one versioned file: {version}_{name}.up.sql.
type Migration struct {
	Version  uint64
	Name     string
	Path     string // relative to the project folder, slash-separated
	SQL      string
	Checksum string // sha256 of the file's bytes, hex
}

// Repeatable is one file of procedures/ or policies/, applied again
// whenever its content changes.
type Repeatable struct {
	Kind     string // "procedure" or "policy"
	Path     string // relative to the project folder, slash-separated
	SQL      string
	Checksum string
}

var migrationName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_\-]+)\.up\.sql$`)

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

func checksum(b []byte) string {
	s := sha256.Sum256(b)
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
	var out []Migration
	var problems []error
	seen := map[uint64]string{}
	for _, e := range entries {
		name := e.Name()
		rel := filepath.ToSlash(filepath.Join(p.Migrations, name))
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		if strings.HasSuffix(name, ".down.sql") {
			problems = append(problems, &ProjectError{Path: rel,
				Problem: "down migrations are not supported: dbtool is forward-only",
				Hint:    "revert intent with a new migration that undoes the change (`dbtool migrate new revert_<what>`), and delete this file"})
			continue
		}
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			problems = append(problems, &ProjectError{Path: rel,
				Problem: "not a migration file name",
				Hint:    "name versioned files {version}_{name}.up.sql, e.g. 20260101120000_create_profiles.up.sql (`dbtool migrate new NAME` does it)"})
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 63)
		if err != nil || v == 0 {
			problems = append(problems, &ProjectError{Path: rel, Problem: "version must be a positive integer that fits 63 bits"})
			continue
		}
		if prev, dup := seen[v]; dup {
			problems = append(problems, &ProjectError{Path: rel, Problem: fmt.Sprintf("version %d is also used by %s", v, prev),
				Hint: "every migration needs its own version: rename one with a new timestamp"})
			continue
		}
		seen[v] = rel
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if perr := checkTransactionControl(rel, string(b)); perr != nil {
			problems = append(problems, perr)
			continue
		}
		out = append(out, Migration{Version: v, Name: m[2], Path: rel, SQL: string(b), Checksum: checksum(b)})
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// checkTransactionControl refuses files that manage their own transaction:
// dbtool runs each file atomically and records it in the same transaction,
// which an explicit COMMIT would break.
func checkTransactionControl(rel, src string) *ProjectError {
	for _, st := range sqlscan.Split(src) {
		w := sqlscan.FirstWords(st.SQL, 2)
		if len(w) == 0 {
			continue
		}
		switch w[0] {
		case "begin", "commit", "rollback", "abort":
			if w[0] == "begin" && len(w) > 1 && w[1] != "transaction" && w[1] != "work" && w[1] != "isolation" {
				continue // not a transaction statement (e.g. inside a DO block the scanner saw whole)
			}
			return &ProjectError{Path: fmt.Sprintf("%s:%d", rel, st.Line),
				Problem: "transaction control (" + strings.ToUpper(w[0]) + ") in a migration file",
				Hint:    "dbtool runs every file in one transaction and records it atomically: remove BEGIN/COMMIT"}
		case "start":
			if len(w) > 1 && w[1] == "transaction" {
				return &ProjectError{Path: fmt.Sprintf("%s:%d", rel, st.Line), Problem: "transaction control (START TRANSACTION) in a migration file",
					Hint: "dbtool runs every file in one transaction and records it atomically: remove it"}
			}
		}
	}
	return nil
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
