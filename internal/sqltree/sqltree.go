// Package sqltree answers questions about SQL through PostgreSQL's own
// parse tree (libpg_query, through pg_query_go), for the rules and
// verdicts that must not guess from text.
package sqltree

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Node is a parse tree as pg_query's JSON gives it.
type Node = any

// ParseExpr parses a SQL expression (as pg_get_expr prints it).
func ParseExpr(expr string) (Node, error) {
	js, err := pg_query.ParseToJSON("select " + expr)
	if err != nil {
		return nil, err
	}
	var tree Node
	err = json.Unmarshal([]byte(js), &tree)
	return tree, err
}

// Walk visits every object of the tree with its key.
func Walk(n Node, visit func(key string, obj map[string]any)) {
	switch x := n.(type) {
	case map[string]any:
		for k, v := range x {
			if obj, ok := v.(map[string]any); ok {
				visit(k, obj)
			}
			Walk(v, visit)
		}
	case []any:
		for _, v := range x {
			Walk(v, visit)
		}
	}
}

// Contains reports whether the subtree has a node of kind key satisfying ok.
func Contains(n Node, key string, ok func(map[string]any) bool) bool {
	found := false
	Walk(n, func(k string, obj map[string]any) {
		if !found && k == key && ok(obj) {
			found = true
		}
	})
	return found
}

// ColumnName is the last field of a ColumnRef, and its qualifier.
func ColumnName(ref map[string]any) (qual, name string) {
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

// FuncName is a FuncCall's dotted name.
func FuncName(fc map[string]any) string {
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

var privilegedName = regexp.MustCompile(`admin|superuser|staff|service_role|is_platform|operator`)

// RowIndependent reports whether a policy expression on table (with
// columns cols) reads no column of the row, asks something of the caller
// (a function or a sub-query: USING (true) is not it), and is not a gate
// for privileged callers (admin, staff, the service role). Unparsable
// expressions are not (precision first).
func RowIndependent(expr, table string, cols []string) bool {
	tree, err := ParseExpr(expr)
	if err != nil {
		return false
	}
	has := map[string]bool{}
	for _, c := range cols {
		has[c] = true
	}
	if Contains(tree, "ColumnRef", func(ref map[string]any) bool {
		qual, name := ColumnName(ref)
		return has[name] && (qual == "" || qual == table)
	}) {
		return false
	}
	if !Contains(tree, "FuncCall", func(map[string]any) bool { return true }) &&
		!Contains(tree, "SubLink", func(map[string]any) bool { return true }) {
		return false
	}
	privileged := Contains(tree, "FuncCall", func(fc map[string]any) bool {
		return privilegedName.MatchString(strings.ToLower(FuncName(fc)))
	}) || Contains(tree, "A_Const", func(c map[string]any) bool {
		sv, _ := c["sval"].(map[string]any)
		return sv != nil && fmt.Sprint(sv["sval"]) == "service_role"
	})
	return !privileged
}

// CreateExtensionIfNotExists reports the extension a statement creates when
// it is CREATE EXTENSION IF NOT EXISTS (ok false for anything else,
// including a statement that does not parse).
func CreateExtensionIfNotExists(stmt string) (name string, ok bool) {
	tree, err := pg_query.Parse(stmt)
	if err != nil || len(tree.Stmts) != 1 {
		return "", false
	}
	ce := tree.Stmts[0].Stmt.GetCreateExtensionStmt()
	if ce == nil || !ce.IfNotExists {
		return "", false
	}
	return ce.Extname, true
}

// callerFree are functions a policy may call without asking who the caller
// is: the clock and value helpers of pg_catalog.
var callerFree = map[string]bool{
	"now": true, "lower": true, "upper": true, "btrim": true, "length": true, "char_length": true,
	"coalesce": true, "nullif": true, "greatest": true, "least": true, "date_trunc": true,
}

// CallerIndependent reports whether a policy expression never asks who the
// caller is: no sub-query, no function but the clock and value helpers of
// callerFree, no current_user / session_user / current_role, and no column
// of ownerCols (USING (user_id = user_id) compares the owner with itself: a
// mistake, not a design). Such a policy shows the rows it selects to
// everyone it applies to. Unparsable expressions are not (precision first).
func CallerIndependent(expr string, ownerCols []string) bool {
	tree, err := ParseExpr(expr)
	if err != nil {
		return false
	}
	owner := map[string]bool{}
	for _, c := range ownerCols {
		owner[c] = true
	}
	if Contains(tree, "SubLink", func(map[string]any) bool { return true }) ||
		Contains(tree, "FuncCall", func(fc map[string]any) bool {
			name := strings.TrimPrefix(strings.ToLower(FuncName(fc)), "pg_catalog.")
			return !callerFree[name]
		}) ||
		Contains(tree, "ColumnRef", func(ref map[string]any) bool {
			_, name := ColumnName(ref)
			return owner[name]
		}) {
		return false
	}
	return !Contains(tree, "SQLValueFunction", func(f map[string]any) bool {
		op, _ := f["op"].(string)
		return strings.Contains(op, "USER") || strings.Contains(op, "ROLE")
	})
}
