package lint

import (
	"strings"
	"testing"
)

// A role holds a privilege only where it can reach the object: anon's
// grants in a schema it has no USAGE on are not reported as anon's.
func TestUnreachableSchemaIsNotHeld(t *testing.T) {
	t.Parallel()
	conn, _ := newDB(t)
	execSQL(t, conn, `create schema api;
		create table api.open_door (id int primary key, note text);
		grant select, insert on api.open_door to anon, authenticated;
		revoke usage on schema api from public, anon;
		grant usage on schema api to authenticated;
		create function api.add(a int, b int) returns int language sql security definer set search_path = '' as 'select a + b';
		grant execute on function api.add(int, int) to anon, authenticated;`)
	res := lintRun(t, conn, Options{Schemas: []string{"api"}, Rules: []string{"rls_disabled_in_public", "security_definer_executable_by_api"}})
	var table, fn *Finding
	for i, f := range res.Findings {
		switch f.Key() {
		case "api.open_door":
			table = &res.Findings[i]
		case "api.add(integer, integer)":
			fn = &res.Findings[i]
		}
	}
	if table == nil || fn == nil {
		t.Fatalf("want findings on api.open_door and api.add for authenticated; got %+v", res.Findings)
	}
	for _, f := range []*Finding{table, fn} {
		if strings.Contains(f.Detail, "anon") || !strings.Contains(f.Detail, "authenticated") {
			t.Errorf("%s: anon has no USAGE on schema api, authenticated has: %q", f.Object, f.Detail)
		}
	}
}
