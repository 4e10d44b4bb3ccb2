package sqltree

import (
	"reflect"
	"testing"
)

func TestCheckValues(t *testing.T) {
	cases := []struct {
		def, column   string
		listed, other []string
	}{
		// How PostgreSQL prints col IN ('a', 'b').
		{"CHECK ((status = ANY (ARRAY['active'::text, 'released'::text])))", "status", []string{"active", "released"}, nil},
		// One array literal, as hand-written SQL often has it.
		{"CHECK ((status = ANY ('{active,released,\"on hold\"}'::text[])))", "status", []string{"active", "released", "on hold"}, nil},
		// IN before PostgreSQL rewrites it, and a plain comparison.
		{"kind in ('a', 'b') or kind = 'c'", "kind", []string{"a", "b", "c"}, nil},
		// Values compared with another column are not this column's.
		{"CHECK ((((audience = 'customer'::text) AND (recipient_id IS NOT NULL)) OR ((audience = 'business'::text) AND (recipient_id IS NULL))))",
			"recipient_id", nil, []string{"customer", "business"}},
		{"CHECK (((role = ANY ('{customer,staff}'::text[])) AND private.changed_by_ok(changed_by, role)))", "role", []string{"customer", "staff"}, nil},
		// A pattern is another constant, not a listed value.
		{"CHECK ((currency ~ '^[A-Z]{3}$'::text))", "currency", nil, []string{"^[A-Z]{3}$"}},
		// Through a cast of the column; NULL elements are no value.
		{"CHECK (((kind)::text = ANY ('{x,NULL,y}'::text[])))", "kind", []string{"x", "y"}, nil},
		{"not sql at all (", "kind", nil, nil},
	}
	for _, c := range cases {
		listed, other := CheckValues(c.def, c.column)
		if !reflect.DeepEqual(listed, c.listed) || !reflect.DeepEqual(other, c.other) {
			t.Errorf("CheckValues(%q, %q) = %q, %q; want %q, %q", c.def, c.column, listed, other, c.listed, c.other)
		}
	}
}

func TestArrayLiteral(t *testing.T) {
	cases := map[string][]string{
		`{a,b}`:                {"a", "b"},
		`{"a,b","c\"d",e}`:     {"a,b", `c"d`, "e"},
		`{}`:                   nil,
		`{{a,b},{c,d}}`:        nil,
		`not an array`:         nil,
		`{ spaced , "kept " }`: {"spaced", "kept "},
	}
	for in, want := range cases {
		if got := ArrayLiteral(in); !reflect.DeepEqual(got, want) {
			t.Errorf("ArrayLiteral(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCallerIndependent(t *testing.T) {
	for _, c := range []struct {
		expr string
		want bool
	}{
		{"(is_active = true)", true},
		{"((status = 'published'::text) AND (published_at <= now()))", true},
		{"(auth.uid() IS NOT NULL)", false},
		{"(user_id = user_id)", false},
		{"(user_id = ( SELECT auth.uid() AS uid))", false},
		{"is_admin()", false},
		{"(EXISTS ( SELECT 1 FROM profiles p WHERE p.role = 'admin'::text))", false},
		{"(owner = CURRENT_USER)", false},
		{"(created_at > CURRENT_DATE)", true},
		{"not valid sql (", false},
	} {
		if got := CallerIndependent(c.expr, []string{"user_id"}); got != c.want {
			t.Errorf("CallerIndependent(%q) = %v, want %v", c.expr, got, c.want)
		}
	}
}
