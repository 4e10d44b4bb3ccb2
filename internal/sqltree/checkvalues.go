package sqltree

import (
	"fmt"
	"strings"
)

// CheckValues reads a CHECK constraint (as pg_get_constraintdef prints it,
// "CHECK (...)", or the bare expression) for the values it allows column:
// listed are the strings the column is compared with by =, IN or = ANY,
// whether written as an ARRAY[...] of constants (how PostgreSQL prints
// "col IN ('a', 'b')") or as one array literal ('{a,b}'::text[], how
// hand-written SQL often lists them); other are the remaining string
// constants of the expression (a pattern among them: the caller decides).
// An expression the parser refuses gives nothing.
func CheckValues(def, column string) (listed, other []string) {
	expr := strings.TrimSpace(def)
	if strings.HasPrefix(strings.ToUpper(expr), "CHECK ") {
		expr = strings.TrimSpace(expr[len("CHECK "):])
	}
	expr = strings.TrimSuffix(expr, " NOT VALID")
	tree, err := ParseExpr(expr)
	if err != nil {
		return nil, nil
	}
	seen := map[string]bool{}
	// Constants that are the right side of a comparison with the column.
	inList := map[any]bool{}
	Walk(tree, func(key string, obj map[string]any) {
		if key != "A_Expr" {
			return
		}
		kind, _ := obj["kind"].(string)
		if kind != "AEXPR_OP" && kind != "AEXPR_OP_ANY" && kind != "AEXPR_IN" {
			return
		}
		if opName(obj) != "=" || !isColumn(obj["lexpr"], column) {
			return
		}
		for _, v := range constStrings(obj["rexpr"], kind != "AEXPR_OP", inList) {
			if !seen[v] {
				seen[v] = true
				listed = append(listed, v)
			}
		}
	})
	Walk(tree, func(key string, obj map[string]any) {
		if key != "A_Const" || inList[fmt.Sprintf("%p", obj)] {
			return
		}
		if sv, ok := obj["sval"].(map[string]any); ok {
			v := fmt.Sprint(sv["sval"])
			if !seen[v] {
				seen[v] = true
				other = append(other, v)
			}
		}
	})
	return listed, other
}

// opName is an A_Expr's operator name ("=" for a comparison).
func opName(obj map[string]any) string {
	names, _ := obj["name"].([]any)
	if len(names) == 0 {
		return ""
	}
	last, _ := names[len(names)-1].(map[string]any)
	s, _ := last["String"].(map[string]any)
	return fmt.Sprint(s["sval"])
}

// isColumn reports whether n is a reference to column (any qualifier,
// through casts).
func isColumn(n any, column string) bool {
	m, _ := n.(map[string]any)
	if tc, ok := m["TypeCast"].(map[string]any); ok {
		return isColumn(tc["arg"], column)
	}
	ref, ok := m["ColumnRef"].(map[string]any)
	if !ok {
		return false
	}
	_, name := ColumnName(ref)
	return name == column
}

// constStrings are the string constants n stands for: a constant (through
// casts), an ARRAY[...] or list of them, or, when arrays is set, an array
// literal cast to an array type ('{a,b}'::text[]). Each A_Const read is
// marked in used.
func constStrings(n any, arrays bool, used map[any]bool) []string {
	m, _ := n.(map[string]any)
	switch {
	case m["A_Const"] != nil:
		c, _ := m["A_Const"].(map[string]any)
		sv, ok := c["sval"].(map[string]any)
		if !ok {
			return nil
		}
		used[fmt.Sprintf("%p", c)] = true
		return []string{fmt.Sprint(sv["sval"])}
	case m["TypeCast"] != nil:
		tc, _ := m["TypeCast"].(map[string]any)
		tn, _ := tc["typeName"].(map[string]any)
		if bounds, _ := tn["arrayBounds"].([]any); arrays && len(bounds) > 0 {
			inner, _ := tc["arg"].(map[string]any)
			lits := constStrings(inner, false, used)
			if len(lits) != 1 {
				return nil
			}
			return ArrayLiteral(lits[0])
		}
		return constStrings(tc["arg"], arrays, used)
	case m["A_ArrayExpr"] != nil:
		ae, _ := m["A_ArrayExpr"].(map[string]any)
		return listStrings(ae["elements"], used)
	case m["List"] != nil:
		l, _ := m["List"].(map[string]any)
		return listStrings(l["items"], used)
	}
	return nil
}

func listStrings(items any, used map[any]bool) []string {
	list, _ := items.([]any)
	var out []string
	for _, it := range list {
		out = append(out, constStrings(it, false, used)...)
	}
	return out
}

// ArrayLiteral splits a one-dimensional PostgreSQL array literal
// ('{a,"b c",NULL}') into its elements; NULL elements are left out. Not an
// array literal: nil.
func ArrayLiteral(s string) []string {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil
	}
	body := s[1 : len(s)-1]
	var out []string
	var cur strings.Builder
	quoted, wasQuoted, escaped := false, false, false
	flush := func() {
		v := cur.String()
		if !wasQuoted {
			v = strings.TrimSpace(v)
			if strings.EqualFold(v, "NULL") || v == "" {
				cur.Reset()
				return
			}
		}
		out = append(out, v)
		cur.Reset()
		wasQuoted = false
	}
	for _, r := range body {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			if !quoted {
				cur.Reset() // whitespace before the quote is not part of it
			}
			quoted = !quoted
			wasQuoted = true
		case wasQuoted && !quoted && r != ',':
			// whitespace after the closing quote
		case r == ',' && !quoted:
			flush()
		case r == '{' && !quoted, r == '}' && !quoted:
			return nil // nested: not a list of values
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}
