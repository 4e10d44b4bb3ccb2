package lint

import (
	"encoding/json"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/dbtool-dev/dbtool/internal/sqltree"
)

// An analyzer reads PostgreSQL's own parse tree (libpg_query, through
// pg_query_go) of a rule's candidate input and says whether the candidate
// is a finding, possibly with a better detail. Rules name it in their
// header (-- analyzer: name); their query returns the input as a fourth
// column. The catalogue query finds candidates; the tree decides.
type analyzer func(input, detail string) (bool, string)

var analyzers = map[string]analyzer{
	"binds_owner":          bindsOwner,
	"row_independent":      rowIndependent,
	"dynamic_sql":          dynamicSQL,
	"secrets":              secrets,
	"insert_only":          insertOnlyValidation,
	"audit_without_old":    auditWithoutOld,
	"random_codes":         randomCodes,
	"caller_context":       cachedCallerContext,
	"unguarded_column":     unguardedColumn,
	"caller_supplied_user": callerSuppliedUser,
	"server_access":        serverAccess,
	"notify_row":           notifyRow,
	"rls_blind_uniqueness": rlsBlindUniqueness,
	"users_reach_result":   usersReachResult,
	"per_row_helper":       perRowHelper,
	"uid_in_correlated":    uidInCorrelatedSubquery,
	"clock_check":          clockCheck,
	"uid_columns":          uidColumns,
}

// node is a parse tree as pg_query's JSON gives it.
type node = any

// parseExpr parses a SQL expression (as pg_get_expr prints it).
func parseExpr(expr string) (node, error) {
	js, err := pg_query.ParseToJSON("select " + expr)
	if err != nil {
		return nil, err
	}
	var tree node
	err = json.Unmarshal([]byte(js), &tree)
	return tree, err
}

// walk visits every object of the tree with its ancestors' keys.
func walk(n node, path []string, visit func(key string, obj map[string]any, path []string)) {
	switch x := n.(type) {
	case map[string]any:
		for k, v := range x {
			if obj, ok := v.(map[string]any); ok {
				visit(k, obj, path)
			}
			walk(v, append(path, k), visit)
		}
	case []any:
		for _, v := range x {
			walk(v, path, visit)
		}
	}
}

// columnName is the last field of a ColumnRef, and its qualifier.
func columnName(ref map[string]any) (qual, name string) {
	fields, _ := ref["fields"].([]any)
	var parts []string
	for _, f := range fields {
		if m, ok := f.(map[string]any); ok {
			if s, ok := m["String"].(map[string]any); ok {
				parts = append(parts, fmt.Sprint(s["sval"]))
			}
		}
	}
	if len(parts) == 0 {
		return "", ""
	}
	if len(parts) > 1 {
		qual = parts[len(parts)-2]
	}
	return qual, parts[len(parts)-1]
}

func funcName(fc map[string]any) string {
	parts, _ := fc["funcname"].([]any)
	var names []string
	for _, p := range parts {
		if m, ok := p.(map[string]any); ok {
			if s, ok := m["String"].(map[string]any); ok {
				names = append(names, fmt.Sprint(s["sval"]))
			}
		}
	}
	return strings.Join(names, ".")
}

// contains reports whether the subtree has a node of kind key satisfying ok.
func contains(n node, key string, ok func(map[string]any) bool) bool {
	found := false
	walk(n, nil, func(k string, obj map[string]any, _ []string) {
		if !found && k == key && ok(obj) {
			found = true
		}
	})
	return found
}

func callsAuthIdentity(n node) bool {
	return contains(n, "FuncCall", func(fc map[string]any) bool {
		name := funcName(fc)
		return name == "auth.uid" || name == "auth.jwt" || name == "uid" || strings.HasSuffix(name, ".uid")
	})
}

// bindsOwner (rule 0041): input is the policy's WITH CHECK (or USING)
// expression and the table's owner columns, separated by \x1f. The check
// binds an owner column when it compares it with auth.uid()/auth.jwt()
// (=, = ANY, IN) or passes it to a function (a membership helper).
func bindsOwner(input, detail string) (bool, string) {
	expr, cols, _ := strings.Cut(input, "\x1f")
	owners := map[string]bool{}
	for _, c := range strings.Split(cols, ",") {
		owners[c] = true
	}
	tree, err := parseExpr(expr)
	if err != nil {
		return false, detail // cannot judge: no finding (precision first)
	}
	isOwnerRef := func(n node) bool {
		return contains(n, "ColumnRef", func(ref map[string]any) bool {
			_, name := columnName(ref)
			return owners[name]
		})
	}
	bound := false
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		if bound {
			return
		}
		switch k {
		case "A_Expr":
			l, r := obj["lexpr"], obj["rexpr"]
			if (isOwnerRef(l) && callsAuthIdentity(r)) || (isOwnerRef(r) && callsAuthIdentity(l)) {
				bound = true
			}
		case "FuncCall":
			if args, ok := obj["args"].([]any); ok {
				for _, a := range args {
					if isOwnerRef(a) {
						bound = true
					}
				}
			}
		}
	})
	if bound || privilegedGate(tree) {
		return false, detail
	}
	return true, detail
}

// privilegedGate: the expression calls a permission helper (is_admin(),
// has_role(...), is_commissioner_of(...), can_manage(...)): only
// privileged callers pass it, and that they may write rows for others is
// the point (an admin, a commissioner), not an escalation an ordinary user
// can make. A helper that only asks whether someone is signed in does not
// count.
func privilegedGate(tree node) bool {
	return contains(tree, "FuncCall", func(fc map[string]any) bool {
		name := strings.ToLower(funcName(fc))
		if i := strings.LastIndex(name, "."); i >= 0 {
			name = name[i+1:]
		}
		if strings.Contains(name, "authenticated") || strings.Contains(name, "logged_in") || strings.Contains(name, "signed_in") || name == "is_user" {
			return false
		}
		return permissionHelper.MatchString(name)
	})
}

// rowIndependent (rule 0042): input is the policy's USING expression, the
// table's name and its columns, separated by \x1f (sqltree.RowIndependent
// decides).
func rowIndependent(input, detail string) (bool, string) {
	parts := strings.Split(input, "\x1f")
	if len(parts) != 3 {
		return false, detail
	}
	return sqltree.RowIndependent(parts[0], parts[1], strings.Split(parts[2], ",")), detail
}

var safeQuoting = map[string]bool{"quote_literal": true, "quote_ident": true, "quote_nullable": true,
	"pg_catalog.quote_literal": true, "pg_catalog.quote_ident": true, "pg_catalog.quote_nullable": true}

// dynamicSQL (rule 0043): input is the routine's definition
// (pg_get_functiondef) and its argument names, separated by \x1f. It is a
// finding when an EXECUTE (or RETURN QUERY EXECUTE, FOR ... EXECUTE)
// builds its text from an argument without quote_literal/quote_ident/
// quote_nullable or format's %L/%I (a USING parameter is safe).
func dynamicSQL(input, detail string) (bool, string) {
	def, argList, _ := strings.Cut(input, "\x1f")
	args := map[string]bool{}
	for _, a := range strings.Split(argList, ",") {
		if a != "" {
			args[strings.ToLower(a)] = true
		}
	}
	if len(args) == 0 {
		return false, detail
	}
	js, err := pg_query.ParsePlPgSqlToJSON(def)
	if err != nil {
		return false, detail
	}
	var tree node
	if json.Unmarshal([]byte(js), &tree) != nil {
		return false, detail
	}
	var unsafe []string
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		var q any
		switch k {
		case "PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors":
			q = obj["query"]
		case "PLpgSQL_stmt_return_query":
			q = obj["dynquery"]
		default:
			return
		}
		text := exprText(q)
		if text == "" {
			return
		}
		if arg := unsafeArgument(text, args); arg != "" {
			unsafe = append(unsafe, arg)
		}
	})
	if len(unsafe) == 0 {
		return false, detail
	}
	return true, detail + "; EXECUTE builds SQL text from " + strings.Join(unsafe, ", ") + " without quote_literal/quote_ident/format %L/%I or USING"
}

func exprText(q any) string {
	m, ok := q.(map[string]any)
	if !ok {
		return ""
	}
	if e, ok := m["PLpgSQL_expr"].(map[string]any); ok {
		s, _ := e["query"].(string)
		return s
	}
	return ""
}

// unsafeArgument returns an argument the expression puts into SQL text
// unquoted, or "".
func unsafeArgument(text string, args map[string]bool) string {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(strings.ToLower(t), "select ") {
		t = "select " + t
	}
	js, err := pg_query.ParseToJSON(t)
	if err != nil {
		return ""
	}
	var tree node
	if json.Unmarshal([]byte(js), &tree) != nil {
		return ""
	}
	found := ""
	var visit func(n node, quoted bool)
	visit = func(n node, quoted bool) {
		switch x := n.(type) {
		case map[string]any:
			if fc, ok := x["FuncCall"].(map[string]any); ok {
				name := strings.ToLower(funcName(fc))
				q := quoted || safeQuoting[name]
				if name == "format" || name == "pg_catalog.format" {
					// format('... %s ...', arg) is unsafe; %L and %I quote.
					fmtString := ""
					if a, ok := fc["args"].([]any); ok && len(a) > 0 {
						if c, ok := a[0].(map[string]any)["A_Const"].(map[string]any); ok {
							if sv, ok := c["sval"].(map[string]any); ok {
								fmtString, _ = sv["sval"].(string)
							}
						}
					}
					q = quoted || !strings.Contains(fmtString, "%s")
				}
				for _, v := range fc {
					visit(v, q)
				}
				return
			}
			if ref, ok := x["ColumnRef"].(map[string]any); ok && !quoted && found == "" {
				qual, name := columnName(ref)
				if args[strings.ToLower(name)] && (qual == "" || !strings.Contains(qual, ".")) {
					found = name
				}
			}
			for _, v := range x {
				visit(v, quoted)
			}
		case []any:
			for _, v := range x {
				visit(v, quoted)
			}
		}
	}
	visit(tree, false)
	return found
}
