package dbtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

// auth.users has the auth server's column types: a function declared to
// return its email as character varying (as projects generated from a real
// Supabase schema do) runs; with text columns it failed with 42804.
func TestSupabaseAuthUsersColumnTypes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "supabase", "migrations", "20240101000000_emails.sql")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(`create function public.user_emails() returns table (id uuid, email character varying, aud character varying)
language plpgsql security definer set search_path = '' as $$
begin return query select u.id, u.email, u.aud from auth.users u; end $$;
`), 0o644); err != nil {
		t.Fatal(err)
	}
	db := NewFor(t, Project{Dir: dir, Platform: "supabase"})
	ctx := context.Background()
	db.Persona(t, "alice")
	var n int
	if err := db.AsOwner(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "select count(*) from public.user_emails()").Scan(&n)
	}); err != nil {
		t.Fatalf("a function returning auth.users.email as varchar: %v", err)
	}
	if n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}
