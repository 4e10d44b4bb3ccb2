package tests

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// An invitation carries its issuer's authority: it is revocable, and it
// stops working when the issuer can no longer grant the role it carries.
func TestInvitationAuthorityOutlivesItsGrantor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	create := func(t *testing.T, issuer dbtest.Persona, email, role string) string {
		t.Helper()
		var token string
		w.As(t, issuer.Actor(), func(q *gen.Queries) error {
			var err error
			token, err = q.InvitationCreate(w.Ctx, gen.InvitationCreateParams{BusinessID: w.Biz.ID, Email: email, Role: role})
			return err
		})
		return token
	}
	accept := func(p dbtest.Persona, token string) error {
		return w.Try(p.Actor(), func(q *gen.Queries) error { _, err := q.InvitationAccept(w.Ctx, token); return err })
	}
	idOf := func(t *testing.T, email string) string {
		t.Helper()
		var id string
		w.Owner(t, func(tx pgx.Tx) error {
			return tx.QueryRow(w.Ctx, `select id::text from public.invitations where email = $1 and accepted_at is null and revoked_at is null`, email).Scan(&id)
		})
		return id
	}

	// Max (manager) invites Ivan as staff, then Olga demotes Max to staff:
	// the invitation dies with Max's members.manage.
	ivan := w.DB.Persona(t, "Ivan Invitee")
	tokIvan := create(t, w.Max, ivan.Email, "staff")
	expect(t, accept(ivan, tokIvan), ok) // valid while Max is a manager (rolled back)
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		_, err := q.MemberSetRole(w.Ctx, gen.MemberSetRoleParams{BusinessID: w.Biz.ID, UserID: w.Max.ID, Role: "staff"})
		return err
	})
	expect(t, accept(ivan, tokIvan), fails("P0001", "invitation_issuer_unauthorized"))

	// Olga invites Oscar as owner, then Olga is demoted by a co-owner: the
	// owner invitation dies, Olga's staff invitation too once she is staff.
	co := w.DB.Persona(t, "Cora Coowner")
	w.invite(t, w.Olga, w.Biz.ID, co, "owner")
	oscar := w.DB.Persona(t, "Oscar Owner-to-be")
	tokOscar := create(t, w.Olga, oscar.Email, "owner")
	pia := w.DB.Persona(t, "Pia Staff-to-be")
	tokPia := create(t, w.Olga, pia.Email, "manager")
	w.As(t, co.Actor(), func(q *gen.Queries) error {
		_, err := q.MemberSetRole(w.Ctx, gen.MemberSetRoleParams{BusinessID: w.Biz.ID, UserID: w.Olga.ID, Role: "manager"})
		return err
	})
	expect(t, accept(oscar, tokOscar), fails("P0001", "invitation_issuer_unauthorized"))
	expect(t, accept(pia, tokPia), ok) // a manager may still grant manager

	// An issuer who left the business: nothing they sent works.
	quinn := w.DB.Persona(t, "Quinn Invitee")
	tokQuinn := create(t, w.Olga, quinn.Email, "staff")
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		return q.MemberRemove(w.Ctx, gen.MemberRemoveParams{BusinessID: w.Biz.ID, UserID: w.Olga.ID})
	})
	expect(t, accept(quinn, tokQuinn), fails("P0001", "invitation_issuer_unauthorized"))

	// Revocation: only members who manage members (owners for owner
	// invitations) may revoke; to anyone else the invitation does not exist.
	rita := w.DB.Persona(t, "Rita Invitee")
	tokRita := create(t, co, rita.Email, "staff")
	ritaID := idOf(t, rita.Email)
	revoke := func(p dbtest.Persona, id string) error {
		return w.Call(p.Actor(), func(q *gen.Queries) error { return q.InvitationRevoke(w.Ctx, id) })
	}
	expect(t, revoke(w.Sam, ritaID), fails("PT404", "invitation_not_found"))  // staff: no members.manage
	expect(t, revoke(w.Nora, ritaID), fails("PT404", "invitation_not_found")) // another tenant's owner
	expect(t, revoke(rita, ritaID), fails("PT404", "invitation_not_found"))   // the invitee
	expect(t, w.DB.AsAnon(w.Ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, "select public.invitation_revoke($1)", ritaID)
		return err
	}), denied)
	expect(t, revoke(w.Olga, ritaID), fails("PT404", "invitation_not_found")) // Olga left
	expect(t, accept(rita, tokRita), ok)                                      // still valid (rolled back)
	expect(t, revoke(co, ritaID), ok)
	expect(t, revoke(co, ritaID), ok) // twice: no-op
	expect(t, accept(rita, tokRita), fails("P0001", "invitation_revoked"))
	if n := w.Count(t, "public.invitations where id = $1 and revoked_by = $2 and revoked_at is not null", ritaID, co.ID); n != 1 {
		t.Errorf("revocation not recorded (%d rows)", n)
	}

	// A manager cannot revoke an owner invitation; an accepted invitation
	// cannot be revoked.
	sven := w.DB.Persona(t, "Sven Second Owner")
	create(t, co, sven.Email, "owner")
	svenID := idOf(t, sven.Email)
	expect(t, revoke(w.Max, svenID), fails("PT404", "invitation_not_found")) // Max is staff now
	mona := w.DB.Persona(t, "Mona Manager")
	w.invite(t, co, w.Biz.ID, mona, "manager")
	expect(t, revoke(mona, svenID), fails("42501", "owner_required"))
	expect(t, revoke(co, svenID), ok)
	monaID := ""
	w.Owner(t, func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, `select id::text from public.invitations where email = $1`, mona.Email).Scan(&monaID)
	})
	expect(t, revoke(co, monaID), fails("PT409", "invitation_already_accepted"))
}
