package dbtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgRESTError is the response a PostgREST (Supabase) client receives when
// the database call behind its request fails: the HTTP status and the JSON
// body. The body has these four keys only; PostgREST never forwards the
// error's CONSTRAINT, TABLE or COLUMN fields, so a rule name a client must
// see has to travel in Details (or Hint).
type PostgRESTError struct {
	Status  int     `json:"-"`
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Details *string `json:"details"`
	Hint    *string `json:"hint"`
}

func (e *PostgRESTError) Error() string {
	b, _ := json.Marshal(e)
	return fmt.Sprintf("HTTP %d %s", e.Status, b)
}

// DetailsText is Details, or "" when the body's details is null.
func (e *PostgRESTError) DetailsText() string {
	if e.Details == nil {
		return ""
	}
	return *e.Details
}

// PostgREST translates err, returned by a call made as role (the request's
// role: "anon" for a request without a user JWT), into what PostgREST would
// answer over HTTP, following PostgREST's own mapping (mapSQLtoHTTP in
// src/PostgREST/Error.hs, v12): the SQLSTATE picks the status, "PTnnn"
// codes answer with status nnn, and RAISE SQLSTATE 'PGRST' with a JSON
// MESSAGE and DETAIL sets status and body. It returns false when err is not
// a PostgreSQL error (a network failure, a Go error), which PostgREST would
// not have produced.
//
// Tests use it to assert what a client sees rather than what pgx sees:
//
//	err := db.AsUser(ctx, id, nil, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, "select hold_confirm($1)", hold); return err })
//	resp, _ := dbtest.PostgREST(err, "authenticated")
//	// resp.Status == 409, resp.DetailsText() == "hold_not_active"
func PostgREST(err error, role string) (*PostgRESTError, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil, false
	}
	authed := role != "anon" && role != ""
	if pe.Code == "PGRST" {
		if r, ok := parseRaisePGRST(pe); ok {
			return r, true
		}
		// PostgREST answers a malformed PGRST raise with its own error.
		return &PostgRESTError{Status: 500, Code: "PGRST121", Message: "Could not parse JSON in the RAISE SQLSTATE 'PGRST' error",
			Details: strPtr("Invalid JSON in MESSAGE or DETAIL"), Hint: strPtr("MESSAGE must be a JSON object with 'code' and 'message'; DETAIL a JSON object with 'status' and 'headers'.")}, true
	}
	r := &PostgRESTError{Status: HTTPStatus(pe.Code, pe.Message, authed), Code: pe.Code, Message: pe.Message}
	if pe.Detail != "" {
		r.Details = strPtr(pe.Detail)
	}
	if pe.Hint != "" {
		r.Hint = strPtr(pe.Hint)
	}
	return r, true
}

// HTTPStatus is the status PostgREST answers for an error with this SQLSTATE
// and message; authed is false for the anon role (a request without a user
// JWT), where 42501 becomes 401 instead of 403.
func HTTPStatus(sqlstate, message string, authed bool) int {
	switch sqlstate {
	case "23503", "23505":
		return 409
	case "25006":
		return 405
	case "21000":
		if strings.HasSuffix(message, "requires a WHERE clause") {
			return 400
		}
		return 500
	case "22023":
		if strings.HasPrefix(message, "role") && strings.HasSuffix(message, "does not exist") {
			return 401
		}
		return 400
	case "53400":
		return 500
	case "57P01":
		return 503
	case "42883":
		if strings.HasPrefix(message, "function xmlagg(") {
			return 406
		}
		return 404
	case "42P01":
		return 404
	case "42P17":
		return 500
	case "42501":
		if authed {
			return 403
		}
		return 401
	case "P0001":
		return 400
	}
	if len(sqlstate) < 2 {
		return 400
	}
	switch sqlstate[:2] {
	case "08":
		return 503
	case "09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX":
		return 500
	case "0L", "0P", "28":
		return 403
	case "53":
		return 503
	case "PT":
		if n, err := strconv.Atoi(sqlstate[2:]); err == nil && n >= 100 && n <= 999 {
			return n
		}
		return 500
	}
	return 400
}

func parseRaisePGRST(pe *pgconn.PgError) (*PostgRESTError, bool) {
	var body struct {
		Code    *string `json:"code"`
		Message *string `json:"message"`
		Details *string `json:"details"`
		Hint    *string `json:"hint"`
	}
	var det struct {
		Status  *int              `json:"status"`
		Headers map[string]string `json:"headers"`
	}
	if json.Unmarshal([]byte(pe.Message), &body) != nil || body.Code == nil || body.Message == nil {
		return nil, false
	}
	if json.Unmarshal([]byte(pe.Detail), &det) != nil || det.Status == nil || det.Headers == nil {
		return nil, false
	}
	return &PostgRESTError{Status: *det.Status, Code: *body.Code, Message: *body.Message, Details: body.Details, Hint: body.Hint}, true
}

func strPtr(s string) *string { return &s }
