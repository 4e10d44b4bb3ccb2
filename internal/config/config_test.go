package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestPrecedenceEnvOverFileOverDefault(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte("schemas: [api, public]\nlock_timeout: 5s\nmigrations: db/migrations\n"), 0o644)
	env := map[string]string{"DBTOOL_LOCK_TIMEOUT": "7s", "DATABASE_URL": "postgres://x/y"}
	c, err := Load(dir, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Schemas, []string{"api", "public"}) || c.Migrations != "db/migrations" {
		t.Errorf("file values not applied: %+v", c)
	}
	if c.LockTimeout != 7*time.Second {
		t.Errorf("env must beat the file: lock_timeout = %s", c.LockTimeout)
	}
	if c.DDLLockTimeout != 10*time.Second || c.Procedures != "procedures" {
		t.Errorf("defaults lost: %+v", c)
	}
	if c.DatabaseURL != "postgres://x/y" {
		t.Errorf("DATABASE_URL not read")
	}
}

func TestUnknownKeyRejected(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte("schemaz: [public]\n"), 0o644)
	if _, err := Load(dir, func(string) string { return "" }); err == nil {
		t.Error("a misspelt key was accepted")
	}
}

func TestEmptyFileIsFine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte("# nothing yet\n"), 0o644)
	if _, err := Load(dir, func(string) string { return "" }); err != nil {
		t.Error(err)
	}
}
