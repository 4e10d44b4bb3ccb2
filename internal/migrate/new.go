package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
	version := now.UTC()
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
