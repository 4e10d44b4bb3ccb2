package dbtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/platform"
)

// Persona is a platform user (a row of auth.users) with a readable name,
// for tests that read like stories: alice books, bob may not see it.
type Persona struct {
	Name   string
	ID     string // auth.users.id (uuid)
	Email  string
	claims map[string]any
}

// PersonaOption adjusts a persona's user row or claims.
type PersonaOption func(*personaSpec)

type personaSpec struct {
	email     string
	app       map[string]any
	user      map[string]any
	anonymous bool
	claims    map[string]any
}

// WithEmail sets the persona's e-mail (default <name>@example.test).
func WithEmail(email string) PersonaOption { return func(s *personaSpec) { s.email = email } }

// WithAppMetadata sets raw_app_meta_data and the app_metadata claim.
func WithAppMetadata(m map[string]any) PersonaOption { return func(s *personaSpec) { s.app = m } }

// WithUserMetadata sets raw_user_meta_data and the user_metadata claim
// (user-editable on Supabase: never trust it for authorisation).
func WithUserMetadata(m map[string]any) PersonaOption { return func(s *personaSpec) { s.user = m } }

// AnonymousUser makes the persona a Supabase anonymous sign-in.
func AnonymousUser() PersonaOption { return func(s *personaSpec) { s.anonymous = true } }

// WithClaims adds or overrides JWT claims (e.g. "aal": "aal2").
func WithClaims(c map[string]any) PersonaOption { return func(s *personaSpec) { s.claims = c } }

// Persona creates a platform user named name and returns it.
func (db *Database) Persona(tb testing.TB, name string, opts ...PersonaOption) Persona {
	tb.Helper()
	p, err := db.CreatePersona(context.Background(), name, opts...)
	if err != nil {
		tb.Fatalf("dbtest: persona %s: %v", name, err)
	}
	return p
}

// CreatePersona is Persona without a testing.TB.
func (db *Database) CreatePersona(ctx context.Context, name string, opts ...PersonaOption) (Persona, error) {
	s := personaSpec{email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.test", app: map[string]any{}, user: map[string]any{"name": name}}
	for _, o := range opts {
		o(&s)
	}
	p := Persona{Name: name, Email: s.email}
	err := db.AsOwner(ctx, func(tx pgx.Tx) error {
		// As Supabase Auth signs a user up: the project's triggers on
		// auth.users (handle_new_user) run as in production.
		id, err := platform.CreateUser(ctx, tx, platform.User{Email: s.email, AppMetadata: s.app, UserMetadata: s.user, Anonymous: s.anonymous})
		p.ID = id
		return err
	})
	if err != nil {
		return p, err
	}
	p.claims = map[string]any{"email": s.email, "app_metadata": s.app, "user_metadata": s.user, "is_anonymous": s.anonymous}
	for k, v := range s.claims {
		p.claims[k] = v
	}
	return p, nil
}

// Actor is the persona's signed-in request.
func (p Persona) Actor() Actor { return User(p.ID, p.claims) }

// AsPersona runs fn as the persona.
func (db *Database) AsPersona(ctx context.Context, p Persona, fn func(tx pgx.Tx) error) error {
	return db.As(ctx, p.Actor(), fn)
}
