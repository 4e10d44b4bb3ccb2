package dbtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Errors raised by a real server, as each role, come out as PostgREST would
// answer them.
func TestPostgRESTMapping(t *testing.T) {
	t.Parallel()
	db := NewFor(t, fixtureProject(t))
	ctx := context.Background()
	alice := db.Persona(t, "alice")
	raise := func(using string) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "do $$ begin raise exception using "+using+"; end $$")
			return err
		}
	}
	cases := []struct {
		name   string
		role   string
		call   func(tx pgx.Tx) error
		status int
		code   string
		det    string
	}{
		{"anon without privilege", "anon", func(tx pgx.Tx) error { _, err := tx.Exec(ctx, "select * from public.withdrawals"); return err }, 401, "42501", ""},
		{"user without privilege", "authenticated", func(tx pgx.Tx) error { _, err := tx.Exec(ctx, "select * from public.withdrawals"); return err }, 403, "42501", ""},
		{"business rule", "authenticated", raise("errcode = 'P0001', message = 'too late', detail = 'cancel_cutoff_passed'"), 400, "P0001", "cancel_cutoff_passed"},
		{"anon writing a table", "anon", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "insert into public.wallets values (gen_random_uuid(), 1)")
			return err
		}, 401, "42501", ""},
		{"PT404 with its rule in details", "authenticated", raise("errcode = 'PT404', message = 'hold not found', detail = 'hold_not_found', constraint = 'hold_not_found'"), 404, "PT404", "hold_not_found"},
		{"PT409", "anon", raise("errcode = 'PT409', message = 'taken', detail = 'slot_unavailable'"), 409, "PT409", "slot_unavailable"},
		{"P0002 is a server error over HTTP", "authenticated", raise("errcode = 'P0002', message = 'x'"), 500, "P0002", ""},
		{"unique violation", "authenticated", raise("errcode = '23505', message = 'dup'"), 409, "23505", ""},
		{"check violation", "authenticated", raise("errcode = '23514', message = 'bad'"), 400, "23514", ""},
		{"PGRST full control", "authenticated", raise(`errcode = 'PGRST', message = '{"code":"123","message":"Payment Required","details":"quota"}', detail = '{"status":402,"headers":{"X-Powered-By":"Nerd Rage"}}'`), 402, "123", "quota"},
		{"PGRST malformed", "authenticated", raise(`errcode = 'PGRST', message = 'not json', detail = '{}'`), 500, "PGRST121", "Invalid JSON in MESSAGE or DETAIL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			switch c.role {
			case "anon":
				err = db.AsAnon(ctx, c.call)
			default:
				err = db.AsPersona(ctx, alice, c.call)
			}
			if err == nil {
				t.Fatal("the call succeeded; every case must fail")
			}
			resp, ok := PostgREST(err, c.role)
			if !ok {
				t.Fatalf("not a server error: %v", err)
			}
			if resp.Status != c.status || resp.Code != c.code || resp.DetailsText() != c.det {
				t.Errorf("got %v, want status %d code %s details %q", resp, c.status, c.code, c.det)
			}
		})
	}
	if _, ok := PostgREST(context.Canceled, "anon"); ok {
		t.Error("a Go error is not a PostgREST response")
	}
}
