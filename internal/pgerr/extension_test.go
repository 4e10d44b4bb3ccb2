package pgerr

import (
	"strings"
	"testing"
)

// The hint names where an extension comes from: Debian, only the
// PostgreSQL project's repository, or only Supabase's image.
func TestExtensionHint(t *testing.T) {
	for _, c := range []struct {
		ext, want, not string
	}{
		{"pg_cron", "apt-get install postgresql-15-cron)", "apt.postgresql.org"},
		{"vector", "apt-get install postgresql-15-pgvector, from the PostgreSQL project's repository apt.postgresql.org", ""},
		{"pgjwt", "apt.postgresql.org: Debian has no such package", ""},
		{"pg_net", "part of Supabase's own image and has no Debian package", "apt-get"},
	} {
		got := extensionHint(`extension "` + c.ext + `" is not available`)
		if !strings.Contains(got, c.want) || (c.not != "" && strings.Contains(got, c.not)) {
			t.Errorf("%s: hint %q; want %q and not %q", c.ext, got, c.want, c.not)
		}
	}
}
