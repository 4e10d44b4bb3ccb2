package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

var nameChars = regexp.MustCompile(`[^a-z0-9_]+`)

// NewFile creates an empty forward-only migration
// migrations/YYYYMMDDHHMMSS_name.up.sql and returns its path. The version is
// the UTC time, raised above the newest existing version when needed so that
// versions always increase.
func (p Project) NewFile(name string, now time.Time) (string, error) {
	p = p.withDefaults()
	slug := strings.Trim(nameChars.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "_"), "_")
	if slug == "" {
		return "", fmt.Errorf("migration name %q has no letters or digits: use e.g. create_profiles", name)
	}
	if len(slug) > 100 {
		return "", fmt.Errorf("migration name is %d characters long: keep it under 100", len(slug))
	}
	files, err := p.LoadMigrations()
	if err != nil {
		return "", err
	}
	// Two dbtool migrate new at once (scripts, parallel branches made by a
	// tool) must not pick one version: hold a lock on the folder while
	// choosing and creating.
	unlock, err := lockFolder(p.abs(p.Migrations))
	if err != nil {
		return "", err
	}
	defer unlock()
	if files, err = p.LoadMigrations(); err != nil {
		return "", err
	}
	version := now.UTC().Truncate(time.Second) // file names carry whole seconds: compare in them
	if n := len(files); n > 0 {
		last, err := time.Parse("20060102150405", fmt.Sprintf("%014d", files[n-1].Version))
		if err == nil && !version.After(last) {
			version = last.Add(time.Second)
		}
	}
	dir := p.abs(p.Migrations)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	file := fmt.Sprintf("%s_%s.up.sql", version.Format("20060102150405"), slug)
	if p.Layout == LayoutSupabase {
		file = fmt.Sprintf("%s_%s.sql", version.Format("20060102150405"), slug) // as supabase migration new names it
	}
	path := filepath.Join(dir, file)
	body := fmt.Sprintf("-- %s\n--\n-- Forward-only: this file runs once, in one transaction, and must never be edited\n"+
		"-- after it is applied. To revert it, write a new migration.\n\n", strings.ReplaceAll(slug, "_", " "))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteString(body); err != nil {
		return "", err
	}
	return filepath.ToSlash(filepath.Join(p.Migrations, file)), nil
}

// lockFolder takes an exclusive lock tied to the folder (a lock file in the
// temporary directory, so nothing is left in the project).
func lockFolder(dir string) (func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(abs))
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "dbtool-new-"+hex.EncodeToString(sum[:8])+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
