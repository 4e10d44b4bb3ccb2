package tests

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/gen"
	"github.com/dbtool-dev/dbtool/internal/pgerr"
)

// TestBookingChecksAfterRewrite: migration 20261203110000 rewrote the long
// CHECKs of the booking tables as one call of an IMMUTABLE function each,
// and the lists of allowed values as one array constant. Each rule still
// refuses what it refused (23514, same constraint name) and still lets
// through its valid neighbour; written as the owner, the backstop below the
// procedures.
func TestBookingChecksAfterRewrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hold, appt := w.AliceHold.ID, w.AliceAppt.ID
	history := `insert into public.appointment_status_history
	  (appointment_id, business_id, customer_id, to_status, to_slot, changed_by, changed_by_role)
	  select a.id, a.business_id, a.customer_id, %s, a.slot, %s, %s from public.appointments a where a.id = $1`
	notification := `insert into public.notifications (business_id, customer_id, appointment_id, audience, recipient_id, kind, payload)
	  select a.business_id, a.customer_id, a.id, %s, %s, %s, '{}' from public.appointments a where a.id = $1`
	audit := `insert into public.audit_log (actor_id, actor_role, business_id, table_name, operation, old_row, new_row)
	  values (null, 'postgres', null, 'appointments', %s, %s, %s)`
	sub := func(tmpl string, args ...string) string {
		for _, a := range args {
			tmpl = strings.Replace(tmpl, "%s", a, 1)
		}
		return tmpl
	}
	// Cases marked raw run with triggers off (session_replication_role =
	// replica), so a constraint is reached that a BEFORE trigger's own rule
	// (the status transitions) would otherwise answer first.
	const raw = "raw"
	cases := []struct {
		name, sql, id string
		rule          string // "" = accepted
		mode          string
	}{
		{"hold slot shorter than 15 minutes", `update public.holds set slot = tstzrange(lower(slot), lower(slot) + interval '10 minutes') where id = $1`, hold, "holds_slot_check", ""},
		{"hold slot closed at its end", `update public.holds set slot = tstzrange(lower(slot), lower(slot) + interval '1 hour', '[]') where id = $1`, hold, "holds_slot_check", ""},
		{"hold slot longer than a day", `update public.holds set slot = tstzrange(lower(slot), lower(slot) + interval '25 hours') where id = $1`, hold, "holds_slot_check", ""},
		{"hold slot without an end", `update public.holds set slot = tstzrange(lower(slot), null) where id = $1`, hold, "holds_slot_check", ""},
		{"hold slot of 30 minutes", `update public.holds set slot = tstzrange(lower(slot), lower(slot) + interval '30 minutes') where id = $1`, hold, "", ""},
		{"hold status unknown", `update public.holds set status = 'paused' where id = $1`, hold, "holds_status_check", ""},
		{"hold released", `update public.holds set status = 'released' where id = $1`, hold, "", ""},

		{"appointment slot empty", `update public.appointments set slot = 'empty' where id = $1`, appt, "appointments_slot_check", ""},
		{"cancelled_at on a confirmed appointment", `update public.appointments set cancelled_at = now(), cancelled_by_role = 'staff' where id = $1`, appt, "appointments_cancelled_check", ""},
		{"a reason without a cancellation", `update public.appointments set cancel_reason = 'why' where id = $1`, appt, "appointments_cancelled_check", ""},
		{"who cancelled, without a cancellation", `update public.appointments set cancelled_by_role = 'staff' where id = $1`, appt, "appointments_cancelled_by_role_check", ""},
		{"cancelled by an unknown kind of actor", `update public.appointments set status = 'cancelled', cancelled_at = now(), cancelled_by_role = 'robot' where id = $1`, appt, "appointments_cancelled_by_role_check", ""},
		{"a staff user id as who cancelled", `update public.appointments set status = 'cancelled', cancelled_at = now(), cancelled_by_role = 'staff', cancelled_by = '` + w.Max.ID + `' where id = $1`, appt, "appointments_cancelled_by_role_check", ""},
		{"cancelled by the customer, named", `update public.appointments set status = 'cancelled', cancelled_at = now(), cancelled_by_role = 'customer', cancelled_by = customer_id, cancel_reason = 'sick' where id = $1`, appt, "", ""},
		{"cancelled by staff, unnamed", `update public.appointments set status = 'cancelled', cancelled_at = now(), cancelled_by_role = 'staff' where id = $1`, appt, "", ""},
		{"appointment status unknown", `update public.appointments set status = 'paused' where id = $1`, appt, "appointments_status_check", raw},
		{"appointment completed", `update public.appointments set status = 'completed' where id = $1`, appt, "", raw},

		{"history: a staff user id", sub(history, "'completed'", "'"+w.Max.ID+"'", "'staff'"), appt, "appointment_status_history_changed_by_role_check", ""},
		{"history: an unknown kind of actor", sub(history, "'completed'", "null", "'robot'"), appt, "appointment_status_history_changed_by_role_check", ""},
		{"history: an unknown status", sub(history, "'paused'", "null", "'staff'"), appt, "appointment_status_history_to_status_check", ""},
		{"history: the customer, named", sub(history, "'completed'", "a.customer_id", "'customer'"), appt, "", ""},
		{"history: staff, unnamed", sub(history, "'completed'", "null", "'system'"), appt, "", ""},

		{"notification: customer audience without a recipient", sub(notification, "'customer'", "null", "'appointment_created'"), appt, "notifications_audience_check", ""},
		{"notification: customer audience, someone else", sub(notification, "'customer'", "'"+w.Bob.ID+"'", "'appointment_created'"), appt, "notifications_audience_check", ""},
		{"notification: business audience with a recipient", sub(notification, "'business'", "a.customer_id", "'appointment_created'"), appt, "notifications_audience_check", ""},
		{"notification: an unknown audience", sub(notification, "'everyone'", "null", "'appointment_created'"), appt, "notifications_audience_check", ""},
		{"notification: an unknown kind", sub(notification, "'business'", "null", "'appointment_teleported'"), appt, "notifications_kind_check", ""},
		{"notification: to the customer", sub(notification, "'customer'", "a.customer_id", "'appointment_reminder'"), appt, "", ""},

		{"audit: an insert with a row before", sub(audit, "'INSERT'", "'{}'", "'{}'"), "", "audit_log_rows_check", ""},
		{"audit: a delete with a row after", sub(audit, "'DELETE'", "'{}'", "'{}'"), "", "audit_log_rows_check", ""},
		{"audit: an unknown operation", sub(audit, "'MERGE'", "'{}'", "'{}'"), "", "audit_log_operation_check", ""},
		{"audit: an update", sub(audit, "'UPDATE'", "'{}'", "'{}'"), "", "", ""},
	}
	for _, c := range cases {
		err := w.DB.AsOwner(w.Ctx, func(tx pgx.Tx) error {
			if c.mode == raw {
				if _, err := tx.Exec(w.Ctx, `set local session_replication_role = replica`); err != nil {
					return err
				}
			}
			var args []any
			if c.id != "" {
				args = append(args, c.id)
			}
			tag, err := tx.Exec(w.Ctx, c.sql, args...)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				t.Errorf("%s: %d rows written, want 1", c.name, tag.RowsAffected())
			}
			return errRollback
		})
		if errors.Is(err, errRollback) {
			err = nil
		}
		if c.rule == "" {
			expect(t, err, ok)
		} else {
			expect(t, err, fails("23514", c.rule))
		}
		if t.Failed() {
			t.Logf("case %q", c.name)
			t.FailNow()
		}
	}
}

// TestDeletesWithoutRedundantKeys: the five foreign keys migration
// 20261203110000 dropped were implied by others with the same outcome on
// delete, and the indexes 20261203172533 dropped served deletes other
// indexes serve. A user, a business, a vehicle, an address, a service or a
// crew with appointments still cannot be deleted; one with holds only still
// takes its holds along.
func TestDeletesWithoutRedundantKeys(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	deleteAs := func(sql, id string) error {
		return w.DB.AsOwner(w.Ctx, func(tx pgx.Tx) error {
			_, err := tx.Exec(w.Ctx, sql, id)
			return err
		})
	}
	refused := func(what string, err error) {
		t.Helper()
		pe, isPG := pgerr.PG(err)
		if !isPG || pe.Code != "23503" || !strings.HasPrefix(pe.ConstraintName, "appointments_") {
			t.Errorf("deleting %s: got %s, want 23503 from an appointments key", what, describe(err))
		}
	}

	// Alice has an appointment and a hold at business 1.
	refused("a user with appointments", deleteAs(`delete from auth.users where id = $1`, w.Alice.ID))
	if n := w.Count(t, `public.appointments where customer_id = $1`, w.Alice.ID); n == 0 {
		t.Fatal("Alice's appointments are gone")
	}
	// Business 2 has Dave's appointment.
	refused("a business with appointments", deleteAs(`delete from public.businesses where id = $1`, w.Biz2.ID))

	// A customer with a hold and nothing else: deleting the user takes the hold.
	erin := w.DB.Persona(t, "Erin")
	car, home := w.customer(t, erin, "sedan", "E-RN-1")
	h := w.Hold(t, erin, w.Biz.ID, w.Wash.ID, w.At(16, 0), car.ID, home.ID)
	if err := deleteAs(`delete from auth.users where id = $1`, erin.ID); err != nil {
		t.Fatalf("deleting a user with a hold only: %s", describe(err))
	}
	if n := w.Count(t, `public.holds where id = $1`, h.ID); n != 0 {
		t.Errorf("the deleted user's hold is still there")
	}

	// A business with a hold and no appointment: deleting it takes the hold.
	biz := w.createBusiness(t, w.Nora, "Empty Wash", "empty-wash", tz1)
	var svc gen.Service
	w.As(t, w.Nora.Actor(), func(q *gen.Queries) error {
		if _, err := q.CrewCreate(w.Ctx, gen.CrewCreateParams{BusinessID: biz.ID, Name: "Crew 1"}); err != nil {
			return err
		}
		var err error
		if svc, err = q.ServiceCreate(w.Ctx, gen.ServiceCreateParams{BusinessID: biz.ID, Name: "Rinse", DurationMinutes: 30}); err != nil {
			return err
		}
		return w.setWorkingHours(q, biz.ID, 0, 24)
	})
	w.setPrices(t, w.Nora.Actor(), biz.ID, svc.ID, map[string]int32{"sedan": 1000, "suv": 1200})
	h2 := w.Hold(t, w.Bob, biz.ID, svc.ID, w.At(10, 0), w.BobCar.ID, w.BobHome.ID)
	if err := deleteAs(`delete from public.businesses where id = $1`, biz.ID); err != nil {
		t.Fatalf("deleting a business with a hold only: %s", describe(err))
	}
	if n := w.Count(t, `public.holds where id = $1`, h2.ID); n != 0 {
		t.Errorf("the deleted business's hold is still there")
	}

	// Migration 20261203172533 dropped the single-column indexes on the
	// vehicle, address, service and crew of holds and appointments: their
	// keys are composite, and the index of the other column (the customer's,
	// the business's) serves these deletes. Same outcomes: a vehicle, an
	// address, a service or a crew with appointments cannot be deleted; a
	// vehicle or a service with a hold only takes the hold along.
	refused("a vehicle with appointments", deleteAs(`delete from public.vehicles where id = $1`, w.AliceCar.ID))
	refused("an address with appointments", deleteAs(`delete from public.addresses where id = $1`, w.AliceHome.ID))
	refused("a service with appointments", deleteAs(`delete from public.services where id = $1`, w.Wash.ID))
	refused("a crew with appointments", deleteAs(`delete from public.crews where id = $1`, w.AliceAppt.CrewID))
	frank := w.DB.Persona(t, "Frank")
	fcar, fhome := w.customer(t, frank, "sedan", "F-RK-1")
	h3 := w.Hold(t, frank, w.Biz.ID, w.Wash.ID, w.At(17, 0), fcar.ID, fhome.ID)
	if err := deleteAs(`delete from public.vehicles where id = $1`, fcar.ID); err != nil {
		t.Fatalf("deleting a vehicle with a hold only: %s", describe(err))
	}
	if n := w.Count(t, `public.holds where id = $1`, h3.ID); n != 0 {
		t.Errorf("the deleted vehicle's hold is still there")
	}
}
