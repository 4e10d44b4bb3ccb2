package tests

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// The HTTP column of docs/errors.md is what PostgREST answers for the
// documented SQLSTATE: "401 / 403" for 42501 (anon / a user JWT), the
// status otherwise.
func TestDocumentedHTTPStatus(t *testing.T) {
	t.Parallel()
	doc := errorsDoc(t)
	row := regexp.MustCompile("(?m)^\\| `(\\w+)`(?: / `\\w+`)? \\| ([0-9A-Z]{5}) \\| ([^|]+)\\|")
	n := 0
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		rule, state, http := m[1], m[2], strings.TrimSpace(m[3])
		n++
		anon, user := dbtest.HTTPStatus(state, "", false), dbtest.HTTPStatus(state, "", true)
		var want string
		switch {
		case anon == user:
			want = strconv.Itoa(user)
		case http == strconv.Itoa(user): // a path only signed-in users reach
			want = http
		default:
			want = strconv.Itoa(anon) + " / " + strconv.Itoa(user)
		}
		if http != want {
			t.Errorf("%s (%s): docs/errors.md says HTTP %q, PostgREST answers %s", rule, state, http, want)
		}
	}
	if n < 100 {
		t.Fatalf("read only %d rule rows from docs/errors.md: the table format changed", n)
	}
}

// What a PostgREST client receives when it attacks or misuses the booking
// API: the status of docs/errors.md and the rule name in details.
func TestHTTPErrorContract(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	type attempt struct {
		name   string
		actor  dbtest.Actor
		role   string
		call   func(q *gen.Queries) error
		status int
		rule   string
	}
	confirm := func(hold string) func(q *gen.Queries) error {
		return func(q *gen.Queries) error { _, err := q.HoldConfirm(w.Ctx, hold); return err }
	}
	cases := []attempt{
		{"anon books", dbtest.Anon(), "anon", func(q *gen.Queries) error {
			_, err := q.HoldCreate(w.Ctx, gen.HoldCreateParams{BusinessID: w.Biz.ID, ServiceID: w.Wash.ID, SlotStart: w.At(10, 0), VehicleID: w.AliceCar.ID, AddressID: w.AliceHome.ID})
			return err
		}, 401, ""},
		{"stranger confirms another customer's hold", w.Bob.Actor(), "authenticated", confirm(w.AliceHold.ID), 404, "hold_not_found"},
		{"other tenant's owner confirms it", w.Nora.Actor(), "authenticated", confirm(w.AliceHold.ID), 404, "hold_not_found"},
		{"staff confirms a customer's hold", w.Sam.Actor(), "authenticated", confirm(w.AliceHold.ID), 403, "hold_owner_required"},
		{"customer books someone else's car", w.Bob.Actor(), "authenticated", func(q *gen.Queries) error {
			_, err := q.HoldCreate(w.Ctx, gen.HoldCreateParams{BusinessID: w.Biz.ID, ServiceID: w.Wash.ID, SlotStart: w.At(10, 0), VehicleID: w.AliceCar.ID, AddressID: w.BobHome.ID})
			return err
		}, 404, "vehicle_not_found"},
		{"the last owner leaves", w.Olga.Actor(), "authenticated", func(q *gen.Queries) error {
			return q.MemberRemove(w.Ctx, gen.MemberRemoveParams{BusinessID: w.Biz.ID, UserID: w.Olga.ID})
		}, 409, "last_owner"},
		{"slot outside working hours", w.Alice.Actor(), "authenticated", func(q *gen.Queries) error {
			_, err := q.HoldCreate(w.Ctx, gen.HoldCreateParams{BusinessID: w.Biz.ID, ServiceID: w.Wash.ID, SlotStart: w.At(3, 0), VehicleID: w.AliceCar.ID, AddressID: w.AliceHome.ID})
			return err
		}, 400, "slot_outside_working_hours"},
		{"invitation for an unknown token", w.Bob.Actor(), "authenticated", func(q *gen.Queries) error {
			_, err := q.InvitationAccept(w.Ctx, "not-a-token")
			return err
		}, 404, "invitation_not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := w.Try(c.actor, c.call)
			if err == nil {
				t.Fatal("the call succeeded")
			}
			resp, ok := dbtest.PostgREST(err, c.role)
			if !ok {
				t.Fatalf("not a server error: %v", err)
			}
			if resp.Status != c.status || resp.DetailsText() != c.rule {
				t.Errorf("client receives %v, want HTTP %d with details %q", resp, c.status, c.rule)
			}
		})
	}
}
