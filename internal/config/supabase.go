package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// SupabaseDir is the Supabase CLI's project folder inside a repository.
const SupabaseDir = "supabase"

// supabaseConfig is what dbtool reads of supabase/config.toml.
type supabaseConfig struct {
	API struct {
		Schemas             []string `toml:"schemas"`
		AutoExposeNewTables *bool    `toml:"auto_expose_new_tables"`
	} `toml:"api"`
	DB struct {
		Seed struct {
			Enabled  *bool    `toml:"enabled"`
			SQLPaths []string `toml:"sql_paths"`
		} `toml:"seed"`
	} `toml:"db"`
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// applyLayout detects the Supabase CLI layout and fills what it implies:
// the migrations folder, the exposed schemas, the platform profile and the
// seed files, unless dbtool.yaml set them.
func (c *Config) applyLayout(explicitMigrations, explicitSchemas bool) error {
	sdir := filepath.Join(c.Dir, SupabaseDir)
	if c.Layout == "" {
		c.Layout = LayoutDbtool
		if exists(filepath.Join(sdir, "config.toml")) || exists(filepath.Join(sdir, "migrations")) {
			c.Layout = LayoutSupabase
		}
	}
	switch c.Layout {
	case LayoutDbtool, LayoutSupabase:
	default:
		return fmt.Errorf("%s: layout: %q is not a layout: want dbtool or supabase", FileName, c.Layout)
	}
	switch c.Platform {
	case "", PlatformDbtool, PlatformSupabase, PlatformSupabaseExposed:
	default:
		return fmt.Errorf("%s: platform: %q is not a platform profile: want dbtool, supabase or supabase-auto-expose", FileName, c.Platform)
	}
	if c.Layout != LayoutSupabase {
		if c.Platform == "" {
			c.Platform = PlatformDbtool
		}
		return nil
	}
	if !explicitMigrations {
		c.Migrations = filepath.ToSlash(filepath.Join(SupabaseDir, "migrations"))
	}
	var sc supabaseConfig
	path := filepath.Join(sdir, "config.toml")
	if _, err := toml.DecodeFile(path, &sc); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !explicitSchemas && len(sc.API.Schemas) > 0 {
		var schemas []string
		for _, s := range sc.API.Schemas {
			if s != "graphql_public" { // pg_graphql's own endpoint, not the project's tables
				schemas = append(schemas, s)
			}
		}
		if len(schemas) > 0 {
			c.Schemas = schemas
		}
	}
	if c.Platform == "" {
		c.Platform = PlatformSupabase
		if sc.API.AutoExposeNewTables != nil && *sc.API.AutoExposeNewTables {
			c.Platform = PlatformSupabaseExposed
		}
	}
	if len(c.Seeds) == 0 && (sc.DB.Seed.Enabled == nil || *sc.DB.Seed.Enabled) {
		paths := sc.DB.Seed.SQLPaths
		if len(paths) == 0 {
			paths = []string{"seed.sql"}
		}
		for _, p := range paths {
			// The Supabase CLI resolves sql_paths relative to supabase/.
			c.Seeds = append(c.Seeds, filepath.ToSlash(filepath.Join(SupabaseDir, p)))
		}
	}
	return nil
}
