package lint

import (
	"github.com/dbtool-dev/dbtool/internal/matrix"
)

// judgementFindings turns the access matrix's judgements (built-in
// expectations and attack probes, each confirmed by a live cell) into
// findings, so `lint --matrix`, `check` and the report show them with the
// rules' findings and the same ignores apply to them.
func judgementFindings(m *matrix.Matrix) []Finding {
	if m == nil {
		return nil
	}
	var out []Finding
	for _, j := range m.Judgements {
		detail := j.Detail
		if j.Role != "" {
			detail = "live matrix: " + j.Role + " " + j.Command + " → " + j.Cell + "; " + detail
		}
		if j.Probe != "" {
			detail += " (probe: " + j.Probe + ")"
		}
		out = append(out, Finding{
			Rule: j.Rule, ID: "M", Level: j.Level, Category: "access", Title: judgeTitles[j.Rule],
			Object: j.Display(), ObjectType: j.Kind, Detail: detail, Remediation: judgeFixes[j.Rule],
		})
	}
	return out
}

var judgeTitles = map[string]string{
	matrix.JudgeStrangerReads:  "A signed-in stranger reads the owner's rows",
	matrix.JudgeStrangerWrites: "A signed-in stranger changes the owner's rows",
	matrix.JudgeAnonWrites:     "anon changes rows",
	matrix.JudgeSpoofOwner:     "A signed-in user creates rows owned by someone else",
	matrix.JudgeRaiseAuthority: "A signed-in user raises an authority column on their own row",
	matrix.JudgeServiceDenied:  "service_role is denied what its grants allow",
	matrix.JudgeSeedingFails:   "Inserting a row fails for a reason no constraint explains",
}

var judgeFixes = map[string]string{
	matrix.JudgeStrangerReads:  "Bind the SELECT policy to the row's owner or tenant (user_id = (select auth.uid()), membership); a table public by design says so with USING (true).",
	matrix.JudgeStrangerWrites: "Bind the UPDATE/DELETE policy's USING (and WITH CHECK) to the row's owner or tenant.",
	matrix.JudgeAnonWrites:     "Revoke the write from anon, or bind its policy to something anon cannot forge.",
	matrix.JudgeSpoofOwner:     "WITH CHECK (owner_column = (select auth.uid())), or leave the column out of the INSERT column grant and default it to auth.uid().",
	matrix.JudgeRaiseAuthority: "Revoke UPDATE on the column (grant UPDATE (other, columns) only), or change it through a procedure that checks the caller.",
	matrix.JudgeServiceDenied:  "Grant USAGE on the schema (and the column privileges) the grant needs, or revoke the grant.",
	matrix.JudgeSeedingFails:   "Fix the trigger or default named in the error: every writer hits it.",
}
