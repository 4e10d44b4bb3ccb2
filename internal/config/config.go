// Package config resolves dbtool's settings with one precedence for all of
// them: command-line flag > environment variable > dbtool.yaml > default.
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// FileName is the optional project configuration file, in the project folder.
const FileName = "dbtool.yaml"

// Config is the resolved configuration.
type Config struct {
	Dir              string        `yaml:"-"`
	DatabaseURL      string        `yaml:"-"` // never read from the file: URLs carry secrets
	Backend          string        `yaml:"backend"`
	Image            string        `yaml:"image"`
	Schemas          []string      `yaml:"schemas"`
	Migrations       string        `yaml:"migrations"`
	Procedures       string        `yaml:"procedures"`
	Policies         string        `yaml:"policies"`
	LockTimeout      time.Duration `yaml:"lock_timeout"`
	DDLLockTimeout   time.Duration `yaml:"ddl_lock_timeout"`
	StatementTimeout time.Duration `yaml:"statement_timeout"`
	Roles            Roles         `yaml:"roles"`
	Matrix           Matrix        `yaml:"matrix"`
	Lint             Lint          `yaml:"lint"`
	// Layout is "dbtool" (migrations/, procedures/, policies/) or
	// "supabase" (supabase/migrations/<digits>_<name>.sql, as the Supabase
	// CLI lays them out). Default: supabase when the folder holds
	// supabase/config.toml or supabase/migrations/.
	Layout string `yaml:"layout"`
	// Platform is the default-privileges profile of the platform layer:
	// "dbtool" (deny by default), "supabase" (today's Supabase: new tables
	// not exposed) or "supabase-auto-expose" (projects created before the
	// 2026 change). Default: from supabase/config.toml ([api]
	// auto_expose_new_tables) for the supabase layout, else dbtool.
	Platform string          `yaml:"platform"`
	explicit map[string]bool // folders dbtool.yaml names

	// Seeds are SQL files applied by migrate up --seed, relative to the
	// project folder (globs allowed). Default for the supabase layout:
	// [db.seed] sql_paths of supabase/config.toml, else supabase/seed.sql.
	Seeds []string `yaml:"seeds"`
}

// Layouts and platform profiles.
const (
	LayoutDbtool            = "dbtool"
	LayoutSupabase          = "supabase"
	PlatformDbtool          = "dbtool"
	PlatformSupabase        = "supabase"
	PlatformSupabaseExposed = "supabase-auto-expose"
)

// Lint configures dbtool lint.
type Lint struct {
	// IgnoreFile lists reviewed ignores (default lint-ignore.yaml, used
	// when it exists).
	IgnoreFile string `yaml:"ignore_file"`
	// FailOn is the lowest level that fails (default error).
	FailOn string `yaml:"fail_on"`
}

// Matrix configures the live access matrix.
type Matrix struct {
	// Expected is the reviewed matrix file (default policies/ACCESS.md).
	Expected string `yaml:"expected"`
	// Personas are extra roles to probe as, next to anon, stranger, owner
	// and service_role.
	Personas []Persona `yaml:"personas"`
	// SkipFunctions are functions (schema.name) never called by the probe
	// (e.g. ones with effects outside the database).
	SkipFunctions []string `yaml:"skip_functions"`
	// CallExternal lets the matrix call functions with effects outside the
	// database (HTTP, dblink, NOTIFY, COPY PROGRAM); default false.
	CallExternal bool `yaml:"call_external"`
}

// Persona is a declared matrix persona.
type Persona struct {
	Name   string         `yaml:"name"`
	Role   string         `yaml:"role"`
	Claims map[string]any `yaml:"claims"`
	Setup  string         `yaml:"setup"`
	// Metadata is the user's raw_user_meta_data at sign-up (what a
	// project's handle_new_user trigger reads).
	Metadata map[string]any `yaml:"metadata"`
}

// Roles names the API roles (Supabase's names by default).
type Roles struct {
	Anon          string `yaml:"anon"`
	Authenticated string `yaml:"authenticated"`
	ServiceRole   string `yaml:"service_role"`
	Authenticator string `yaml:"authenticator"`
}

// Defaults returns the built-in defaults.
func Defaults() Config {
	return Config{
		Dir:              ".",
		Backend:          "auto",
		Schemas:          []string{"public"},
		Migrations:       "migrations",
		Procedures:       "procedures",
		Policies:         "policies",
		LockTimeout:      60 * time.Second,
		DDLLockTimeout:   10 * time.Second,
		StatementTimeout: 10 * time.Minute,
		Roles:            Roles{Anon: "anon", Authenticated: "authenticated", ServiceRole: "service_role", Authenticator: "authenticator"},
		Matrix:           Matrix{Expected: "policies/ACCESS.md"},
		Lint:             Lint{IgnoreFile: "lint-ignore.yaml", FailOn: "error"},
	}
}

// Env lists the environment variables dbtool reads, for help texts.
var Env = map[string]string{
	"DATABASE_URL":             "database URL (--database-url)",
	"DBTOOL_BACKEND":           "auto, local, docker or url (--backend)",
	"DBTOOL_PG_IMAGE":          "container image for the docker backend (default postgres:15)",
	"DBTOOL_SCHEMAS":           "comma-separated exposed schemas (--schemas)",
	"DBTOOL_LOCK_TIMEOUT":      "wait for another migrate runner (--lock-timeout)",
	"DBTOOL_DDL_LOCK_TIMEOUT":  "lock_timeout while applying SQL (--ddl-lock-timeout)",
	"DBTOOL_STATEMENT_TIMEOUT": "statement_timeout while applying SQL (--statement-timeout)",
}

// fileConfig mirrors Config with durations as strings, so the file can say
// "10s" and errors can name the key.
type fileConfig struct {
	Backend          string     `yaml:"backend"`
	Image            string     `yaml:"image"`
	Schemas          StringList `yaml:"schemas"`
	Layout           string     `yaml:"layout"`
	Platform         string     `yaml:"platform"`
	Seeds            StringList `yaml:"seeds"`
	Migrations       string     `yaml:"migrations"`
	Procedures       string     `yaml:"procedures"`
	Policies         string     `yaml:"policies"`
	LockTimeout      string     `yaml:"lock_timeout"`
	DDLLockTimeout   string     `yaml:"ddl_lock_timeout"`
	StatementTimeout string     `yaml:"statement_timeout"`
	Roles            Roles      `yaml:"roles"`
	Matrix           Matrix     `yaml:"matrix"`
	Lint             Lint       `yaml:"lint"`
}

// Load applies dir/dbtool.yaml (when present) and the environment over the
// defaults. Flags are applied by the caller afterwards.
func Load(dir string, getenv func(string) string) (Config, error) {
	c := Defaults()
	c.Dir = dir
	var explicitMigrations, explicitSchemas bool
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return c, err
	default:
		var f fileConfig
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("%s: %s", path, didYouMean(err.Error()))
		}
		c.explicit = map[string]bool{"migrations": f.Migrations != "", "procedures": f.Procedures != "", "policies": f.Policies != ""}
		setStr(&c.Backend, f.Backend)
		setStr(&c.Image, f.Image)
		if len(f.Schemas) > 0 {
			c.Schemas = f.Schemas
		}
		setStr(&c.Migrations, f.Migrations)
		setStr(&c.Procedures, f.Procedures)
		setStr(&c.Policies, f.Policies)
		setStr(&c.Layout, f.Layout)
		setStr(&c.Platform, f.Platform)
		if len(f.Seeds) > 0 {
			c.Seeds = f.Seeds
		}
		explicitMigrations = f.Migrations != ""
		explicitSchemas = len(f.Schemas) > 0
		for _, d := range []struct {
			key string
			val string
			dst *time.Duration
		}{{"lock_timeout", f.LockTimeout, &c.LockTimeout}, {"ddl_lock_timeout", f.DDLLockTimeout, &c.DDLLockTimeout}, {"statement_timeout", f.StatementTimeout, &c.StatementTimeout}} {
			if d.val == "" {
				continue
			}
			v, err := time.ParseDuration(d.val)
			if err != nil {
				return c, fmt.Errorf("%s: %s: %w", path, d.key, err)
			}
			*d.dst = v
		}
		setStr(&c.Lint.IgnoreFile, f.Lint.IgnoreFile)
		setStr(&c.Lint.FailOn, f.Lint.FailOn)
		setStr(&c.Matrix.Expected, f.Matrix.Expected)
		c.Matrix.Personas = f.Matrix.Personas
		c.Matrix.SkipFunctions = f.Matrix.SkipFunctions
		c.Matrix.CallExternal = f.Matrix.CallExternal
		setStr(&c.Roles.Anon, f.Roles.Anon)
		setStr(&c.Roles.Authenticated, f.Roles.Authenticated)
		setStr(&c.Roles.ServiceRole, f.Roles.ServiceRole)
		setStr(&c.Roles.Authenticator, f.Roles.Authenticator)
	}
	if err := c.applyLayout(explicitMigrations, explicitSchemas); err != nil {
		return c, err
	}
	setStr(&c.DatabaseURL, getenv("DATABASE_URL"))
	setStr(&c.Backend, getenv("DBTOOL_BACKEND"))
	setStr(&c.Image, getenv("DBTOOL_PG_IMAGE"))
	if s := getenv("DBTOOL_SCHEMAS"); s != "" {
		c.Schemas = SplitList(s)
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"DBTOOL_LOCK_TIMEOUT", &c.LockTimeout}, {"DBTOOL_DDL_LOCK_TIMEOUT", &c.DDLLockTimeout}, {"DBTOOL_STATEMENT_TIMEOUT", &c.StatementTimeout}} {
		if s := getenv(d.env); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil {
				return c, fmt.Errorf("%s: %w", d.env, err)
			}
			*d.dst = v
		}
	}
	return c, nil
}

func setStr(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// StringList is a YAML list of strings that also accepts one scalar
// (`schemas: public` as well as `schemas: [public, api]`).
type StringList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = SplitList(n.Value)
		return nil
	}
	var xs []string
	if err := n.Decode(&xs); err != nil {
		return err
	}
	*l = xs
	return nil
}

// CheckFolders refuses folders dbtool.yaml names that do not exist (a
// default folder may be absent: a project without procedures/).
func (c Config) CheckFolders() error {
	for _, k := range []struct{ key, dir string }{{"migrations", c.Migrations}, {"procedures", c.Procedures}, {"policies", c.Policies}} {
		if !c.explicit[k.key] {
			continue
		}
		p := k.dir
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.Dir, p)
		}
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			return fmt.Errorf("%s: %s: %s: no such folder", FileName, k.key, k.dir)
		}
	}
	return nil
}

// knownKeys are dbtool.yaml's keys, for "did you mean".
var knownKeys = []string{"backend", "image", "schemas", "layout", "platform", "seeds", "migrations", "procedures", "policies",
	"lock_timeout", "ddl_lock_timeout", "statement_timeout", "roles", "matrix", "lint", "anon", "authenticated", "service_role",
	"authenticator", "expected", "personas", "skip_functions", "ignore_file", "fail_on", "name", "role", "claims", "setup", "metadata", "call_external"}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// didYouMean rewrites yaml's "field x not found in type config.fileConfig"
// into "unknown key x (did you mean y?)".
func didYouMean(msg string) string {
	return unknownField.ReplaceAllStringFunc(msg, func(m string) string {
		key := unknownField.FindStringSubmatch(m)[1]
		best, bestD := "", 4
		for _, k := range knownKeys {
			if d := editDistance(key, k); d < bestD {
				best, bestD = k, d
			}
		}
		if best != "" {
			return fmt.Sprintf("unknown key %q (did you mean %q?)", key, best)
		}
		return fmt.Sprintf("unknown key %q (known keys: %s)", key, strings.Join(knownKeys[:12], ", "))
	})
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
