package lint

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// plExpr is one SQL expression or statement of a PL/pgSQL body, parsed in
// turn by PostgreSQL's SQL parser.
type plExpr struct {
	Stmt   string // the PL/pgSQL statement kind holding it (PLpgSQL_stmt_if, ...)
	Query  string
	Tree   node     // nil when the text does not parse on its own
	Target string   // for an assignment, the variable assigned
	Into   []string // for SELECT ... INTO, the variables filled
}

// plBody is a routine's PL/pgSQL parse tree, read down to the SQL of each
// statement.
type plBody struct {
	Exprs  []plExpr
	Raises bool // RAISE EXCEPTION (level ERROR) somewhere
}

// parsePLBody parses a routine definition (pg_get_functiondef) with
// PL/pgSQL's parser, then every expression with the SQL parser.
func parsePLBody(def string) (*plBody, bool) {
	js, err := pg_query.ParsePlPgSqlToJSON(def)
	if err != nil {
		return nil, false
	}
	var tree node
	if json.Unmarshal([]byte(js), &tree) != nil {
		return nil, false
	}
	b := &plBody{}
	var visit func(n node, stmt string)
	var into []string
	visit = func(n node, stmt string) {
		switch x := n.(type) {
		case map[string]any:
			for k, v := range x {
				s := stmt
				if strings.HasPrefix(k, "PLpgSQL_stmt_") {
					s = k
					if m, ok := v.(map[string]any); ok {
						if k == "PLpgSQL_stmt_raise" {
							if lvl, ok := m["elog_level"].(float64); !ok || lvl >= 21 {
								b.Raises = true
							}
						}
						into = nil
						if k == "PLpgSQL_stmt_execsql" {
							into = intoNames(m["target"])
						}
					}
				}
				if k == "PLpgSQL_expr" {
					if m, ok := v.(map[string]any); ok {
						q, _ := m["query"].(string)
						mode, _ := m["parseMode"].(float64)
						e := plExpr{Stmt: stmt, Query: q, Tree: parseSQLText(q, int(mode))}
						if stmt == "PLpgSQL_stmt_execsql" {
							e.Into = into
						}
						if stmt == "PLpgSQL_stmt_assign" {
							if lhs, _, ok := strings.Cut(q, ":="); ok {
								e.Target = strings.ToLower(strings.TrimSpace(lhs))
							}
						}
						b.Exprs = append(b.Exprs, e)
					}
				}
				visit(v, s)
			}
		case []any:
			for _, v := range x {
				visit(v, stmt)
			}
		}
	}
	visit(tree, "")
	return b, true
}

// parseSQLText parses the text of a PL/pgSQL expression by its parse mode:
// 0 a whole statement, 2 an expression, 3 an assignment (v := expr).
func parseSQLText(q string, mode int) node {
	text := q
	switch mode {
	case 2:
		text = "select " + q
	case 3, 4, 5:
		if _, rhs, ok := strings.Cut(q, ":="); ok {
			text = "select " + rhs
		} else if _, rhs, ok := strings.Cut(q, "="); ok {
			text = "select " + rhs
		}
	}
	js, err := pg_query.ParseToJSON(text)
	if err != nil {
		return nil
	}
	var tree node
	if json.Unmarshal([]byte(js), &tree) != nil {
		return nil
	}
	return tree
}

// rowRefs returns the columns a tree reads through the record rec (new,
// old): new.price gives "price"; a bare reference to the whole record
// gives "*".
func rowRefs(tree node, rec string) []string {
	var cols []string
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		if k != "ColumnRef" {
			return
		}
		fields, _ := obj["fields"].([]any)
		var parts []string
		for _, f := range fields {
			if m, ok := f.(map[string]any); ok {
				if s, ok := m["String"].(map[string]any); ok {
					parts = append(parts, strings.ToLower(s["sval"].(string)))
				}
			}
		}
		if len(parts) == 0 || parts[0] != rec {
			return
		}
		if len(parts) == 1 {
			cols = append(cols, "*")
		} else {
			cols = append(cols, parts[1])
		}
	})
	return cols
}

func callsFunc(tree node, names ...string) bool {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	return contains(tree, "FuncCall", func(fc map[string]any) bool {
		return want[strings.ToLower(funcName(fc))]
	})
}

// insertOnlyValidation (rule 0049): input is the trigger function's
// definition and the columns API roles may UPDATE, separated by \x1f. A
// finding when the function raises errors and its conditions read NEW
// columns that API roles can change afterwards with an UPDATE the trigger
// does not see.
func insertOnlyValidation(input, detail string) (bool, string) {
	def, cols, _ := strings.Cut(input, "\x1f")
	updatable := map[string]bool{}
	for _, c := range strings.Split(cols, ",") {
		if c != "" {
			updatable[strings.ToLower(c)] = true
		}
	}
	b, ok := parsePLBody(def)
	if !ok || !b.Raises {
		return false, detail
	}
	checked := map[string]bool{}
	for _, e := range b.Exprs {
		if e.Stmt != "PLpgSQL_stmt_if" && e.Stmt != "PLpgSQL_stmt_case" && e.Stmt != "PLpgSQL_stmt_assert" {
			continue
		}
		for _, c := range rowRefs(e.Tree, "new") {
			if updatable[c] {
				checked[c] = true
			}
		}
	}
	if len(checked) == 0 {
		return false, detail
	}
	return true, detail + " " + strings.Join(sortedKeys(checked), ", ")
}

// auditWithoutOld (rule 0050): input is the trigger function's definition.
// A finding when it writes a row (INSERT) and never reads OLD.
func auditWithoutOld(input, detail string) (bool, string) {
	b, ok := parsePLBody(input)
	if !ok {
		return false, detail
	}
	inserts := false
	for _, e := range b.Exprs {
		if e.Tree == nil {
			return false, detail // cannot read every statement: no verdict
		}
		if len(rowRefs(e.Tree, "old")) > 0 || strings.Contains(strings.ToLower(e.Query), "old") && contains(e.Tree, "ColumnRef", func(ref map[string]any) bool {
			_, name := columnName(ref)
			return strings.ToLower(name) == "old"
		}) {
			return false, detail
		}
		if contains(e.Tree, "InsertStmt", func(map[string]any) bool { return true }) {
			inserts = true
		}
	}
	return inserts, detail
}

var codeLike = regexp.MustCompile(`(?i)(^|_)(code|codes|token|otp|pin|secret|password|passcode|invite|invitation|voucher|coupon|slug|nonce|salt|key|verification)(_|$|s$)`)

// randomCodes (rule 0051): input is the routine's language, name and text
// (pg_get_functiondef for PL/pgSQL, the body for SQL), separated by \x1f.
// A finding when random() feeds a value that is a code, token, PIN,
// password or similar: assigned to a variable or written into a column
// named so, or returned by a routine named so.
func randomCodes(input, detail string) (bool, string) {
	parts := strings.SplitN(input, "\x1f", 3)
	if len(parts) != 3 {
		return false, detail
	}
	lang, name, text := parts[0], parts[1], parts[2]
	var exprs []plExpr
	if lang == "plpgsql" {
		b, ok := parsePLBody(text)
		if !ok {
			return false, detail
		}
		exprs = b.Exprs
	} else {
		exprs = []plExpr{{Stmt: "PLpgSQL_stmt_return", Query: text, Tree: parseSQLText(text, 0)}}
	}
	for _, e := range exprs {
		if e.Tree == nil || !callsFunc(e.Tree, "random", "pg_catalog.random") {
			continue
		}
		if col := randomIntoColumn(e.Tree); col != "" {
			return true, strings.TrimSpace(detail + " writes random() into " + col)
		}
		switch {
		case e.Target != "" && codeLike.MatchString(e.Target):
			return true, strings.TrimSpace(detail + " assigns random() to " + e.Target)
		case (e.Stmt == "PLpgSQL_stmt_return" || e.Stmt == "PLpgSQL_stmt_return_query") && codeLike.MatchString(name):
			return true, strings.TrimSpace(detail + " returns random() from " + name)
		}
	}
	return false, detail
}

// randomIntoColumn finds an INSERT or UPDATE that puts random() into a
// code-like column.
func randomIntoColumn(tree node) string {
	found := ""
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		if found != "" {
			return
		}
		switch k {
		case "InsertStmt":
			cols, _ := obj["cols"].([]any)
			rows := valuesRows(obj)
			for _, row := range rows {
				for i, v := range row {
					if i < len(cols) && callsFunc(v, "random", "pg_catalog.random") {
						if rt, ok := cols[i].(map[string]any)["ResTarget"].(map[string]any); ok {
							if n, _ := rt["name"].(string); codeLike.MatchString(n) {
								found = n
							}
						}
					}
				}
			}
		case "UpdateStmt":
			targets, _ := obj["targetList"].([]any)
			for _, t := range targets {
				if rt, ok := t.(map[string]any)["ResTarget"].(map[string]any); ok {
					if n, _ := rt["name"].(string); codeLike.MatchString(n) && callsFunc(rt["val"], "random", "pg_catalog.random") {
						found = n
					}
				}
			}
		}
	})
	return found
}

func valuesRows(insert map[string]any) [][]any {
	sel, _ := insert["selectStmt"].(map[string]any)
	ss, _ := sel["SelectStmt"].(map[string]any)
	lists, _ := ss["valuesLists"].([]any)
	var rows [][]any
	for _, l := range lists {
		if m, ok := l.(map[string]any); ok {
			if li, ok := m["List"].(map[string]any); ok {
				items, _ := li["items"].([]any)
				rows = append(rows, items)
			}
		}
	}
	return rows
}

var callerContext = map[string]bool{"auth.uid": true, "auth.jwt": true, "auth.role": true, "auth.email": true,
	"current_setting": true, "pg_catalog.current_setting": true}

// cachedCallerContext (rule 0052): input is a materialized view's
// definition. A finding when it calls auth.uid()/jwt()/role()/email(),
// current_setting('request.…') or reads current_user/session_user: the
// value is the refresher's, frozen until the next REFRESH.
func cachedCallerContext(input, detail string) (bool, string) {
	js, err := pg_query.ParseToJSON(input)
	if err != nil {
		return false, detail
	}
	var tree node
	if json.Unmarshal([]byte(js), &tree) != nil {
		return false, detail
	}
	var hits []string
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		switch k {
		case "FuncCall":
			name := strings.ToLower(funcName(obj))
			if !callerContext[name] {
				return
			}
			if strings.HasSuffix(name, "current_setting") {
				args, _ := obj["args"].([]any)
				if len(args) == 0 || !strings.HasPrefix(constString(args[0]), "request.") {
					return
				}
			}
			hits = append(hits, name+"()")
		case "SQLValueFunction":
			switch obj["op"] {
			case "SVFOP_CURRENT_USER", "SVFOP_SESSION_USER", "SVFOP_USER", "SVFOP_CURRENT_ROLE":
				hits = append(hits, strings.ToLower(strings.TrimPrefix(obj["op"].(string), "SVFOP_")))
			}
		}
	})
	if len(hits) == 0 {
		return false, detail
	}
	return true, detail + strings.Join(dedupe(hits), ", ")
}

func constString(n node) string {
	m, ok := n.(map[string]any)
	if !ok {
		return ""
	}
	if c, ok := m["A_Const"].(map[string]any); ok {
		if sv, ok := c["sval"].(map[string]any); ok {
			s, _ := sv["sval"].(string)
			return s
		}
	}
	if tc, ok := m["TypeCast"].(map[string]any); ok {
		return constString(tc["arg"])
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unguardedColumn (rule 0054): input is a column's name and the
// definitions of the table's BEFORE UPDATE trigger functions (separated by
// \x1f, the functions by \x1e). The column is guarded when one of them
// raises and has a condition that reads both NEW.column and OLD.column.
func unguardedColumn(input, detail string) (bool, string) {
	col, defs, _ := strings.Cut(input, "\x1f")
	col = strings.ToLower(col)
	for _, def := range strings.Split(defs, "\x1e") {
		b, ok := parsePLBody(def)
		if !ok || !b.Raises {
			continue
		}
		for _, e := range b.Exprs {
			if e.Stmt != "PLpgSQL_stmt_if" && e.Stmt != "PLpgSQL_stmt_case" {
				continue
			}
			if hasString(rowRefs(e.Tree, "new"), col) && hasString(rowRefs(e.Tree, "old"), col) {
				return false, detail
			}
		}
	}
	return true, detail
}

func hasString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

var permissionHelper = regexp.MustCompile(`(?i)^([a-z_]+\.)?(has_\w+|is_\w+|can_\w+|check_\w+|assert_\w+|require_\w+|authorize\w*)$`)

// callerSuppliedUser (rule 0055): input is the routine's language, its
// definition and its user-id arguments, separated by \x1f. A finding when
// the body writes with one of those arguments while its only look at the
// caller is a null test (auth.uid() is not null) or a role name: no
// comparison of auth.uid()/auth.jwt() with anything, and no permission
// helper (has_*, is_*, can_*...). The caller then acts as whichever user
// they name.
func callerSuppliedUser(input, detail string) (bool, string) {
	parts := strings.SplitN(input, "\x1f", 3)
	if len(parts) != 3 {
		return false, detail
	}
	lang, def, argList := parts[0], parts[1], parts[2]
	args := map[string]bool{}
	for _, a := range strings.Split(argList, ",") {
		if a != "" {
			args[strings.ToLower(a)] = true
		}
	}
	var exprs []plExpr
	if lang == "plpgsql" {
		b, ok := parsePLBody(def)
		if !ok {
			return false, detail
		}
		exprs = b.Exprs
	} else {
		exprs = []plExpr{{Query: def, Tree: parseSQLText(def, 0)}}
	}
	written := map[string]bool{}
	for _, e := range exprs {
		if e.Tree == nil {
			return false, detail // cannot read every statement: no verdict
		}
		strong := false
		walk(e.Tree, nil, func(k string, obj map[string]any, path []string) {
			if k != "FuncCall" || strong {
				return
			}
			name := strings.ToLower(funcName(obj))
			if permissionHelper.MatchString(name) {
				strong = true
				return
			}
			if name == "auth.uid" || name == "auth.jwt" || name == "auth.email" {
				for _, p := range path {
					if p == "NullTest" {
						return
					}
				}
				strong = true
			}
		})
		if strong {
			return false, detail
		}
		walk(e.Tree, nil, func(k string, obj map[string]any, _ []string) {
			if k != "InsertStmt" && k != "UpdateStmt" && k != "DeleteStmt" {
				return
			}
			walk(obj, nil, func(k2 string, ref map[string]any, _ []string) {
				if k2 == "ColumnRef" {
					if _, name := columnName(ref); args[strings.ToLower(name)] {
						written[strings.ToLower(name)] = true
					}
				}
			})
		})
	}
	if len(written) == 0 {
		return false, detail
	}
	return true, detail + strings.Join(sortedKeys(written), ", ")
}

var serverFunctions = map[string]bool{
	"pg_read_file": true, "pg_read_binary_file": true, "pg_ls_dir": true, "pg_stat_file": true,
	"lo_import": true, "lo_export": true, "dblink": true, "dblink_exec": true, "dblink_connect": true,
	"pg_ls_logdir": true, "pg_ls_waldir": true, "pg_terminate_backend": true, "pg_cancel_backend": true,
	"pg_reload_conf": true, "pg_rotate_logfile": true, "set_config": false,
}

// bodyExprs parses a routine (language \x1f text) into its statements.
func bodyExprs(lang, text string) ([]plExpr, bool) {
	if lang == "plpgsql" {
		b, ok := parsePLBody(text)
		if !ok {
			return nil, false
		}
		return b.Exprs, true
	}
	return []plExpr{{Query: text, Tree: parseSQLText(text, 0)}}, true
}

// serverAccess (rule 0056): input is the routine's language and text. A
// finding when it calls a function that reaches the server's files,
// programs, other databases or sessions, or runs COPY to or from a file
// or program.
func serverAccess(input, detail string) (bool, string) {
	lang, text, _ := strings.Cut(input, "\x1f")
	exprs, ok := bodyExprs(lang, text)
	if !ok {
		return false, detail
	}
	hits := map[string]bool{}
	for _, e := range exprs {
		walk(e.Tree, nil, func(k string, obj map[string]any, _ []string) {
			switch k {
			case "FuncCall":
				name := strings.ToLower(funcName(obj))
				if i := strings.LastIndex(name, "."); i >= 0 {
					name = name[i+1:]
				}
				if serverFunctions[name] {
					hits[name+"()"] = true
				}
			case "CopyStmt":
				if prog, _ := obj["is_program"].(bool); prog {
					hits["COPY ... PROGRAM"] = true
				} else if f, _ := obj["filename"].(string); f != "" {
					hits["COPY ... '"+f+"'"] = true
				}
			}
		})
	}
	if len(hits) == 0 {
		return false, detail
	}
	return true, detail + strings.Join(sortedKeys(hits), ", ")
}

// notifyRow (rule 0057): input is the routine's language and text. A
// finding when pg_notify's payload is built from a whole row (NEW, OLD, a
// row variable: to_json(new), row_to_json(new), to_jsonb(old), ...).
func notifyRow(input, detail string) (bool, string) {
	lang, text, _ := strings.Cut(input, "\x1f")
	exprs, ok := bodyExprs(lang, text)
	if !ok {
		return false, detail
	}
	for _, e := range exprs {
		found := false
		walk(e.Tree, nil, func(k string, obj map[string]any, _ []string) {
			if found || k != "FuncCall" {
				return
			}
			name := strings.ToLower(funcName(obj))
			if name != "pg_notify" && name != "pg_catalog.pg_notify" {
				return
			}
			args, _ := obj["args"].([]any)
			if len(args) < 2 {
				return
			}
			if contains(args[1], "FuncCall", func(fc map[string]any) bool {
				switch strings.TrimPrefix(strings.ToLower(funcName(fc)), "pg_catalog.") {
				case "to_json", "to_jsonb", "row_to_json", "json_build_object", "jsonb_build_object":
					return hasString(rowRefs(fc, "new"), "*") || hasString(rowRefs(fc, "old"), "*")
				}
				return false
			}) {
				found = true
			}
		})
		if found {
			return true, detail
		}
	}
	return false, detail
}

// rlsBlindUniqueness (rule 0058): input is the routine's definition and
// the tables with row level security (schema.table and table, comma
// separated), separated by \x1f. A finding when an IF condition tests
// EXISTS over one of those tables and the routine raises: the check sees
// only the rows the caller may see.
func rlsBlindUniqueness(input, detail string) (bool, string) {
	def, list, _ := strings.Cut(input, "\x1f")
	rls := map[string]bool{}
	for _, t := range strings.Split(list, ",") {
		if t != "" {
			rls[strings.ToLower(t)] = true
		}
	}
	b, ok := parsePLBody(def)
	if !ok || !b.Raises {
		return false, detail
	}
	hits := map[string]bool{}
	for _, e := range b.Exprs {
		if e.Stmt != "PLpgSQL_stmt_if" {
			continue
		}
		walk(e.Tree, nil, func(k string, obj map[string]any, _ []string) {
			if k != "SubLink" || obj["subLinkType"] != "EXISTS_SUBLINK" {
				return
			}
			walk(obj, nil, func(k2 string, rv map[string]any, _ []string) {
				if k2 != "RangeVar" {
					return
				}
				rel, _ := rv["relname"].(string)
				sch, _ := rv["schemaname"].(string)
				name := strings.ToLower(rel)
				if sch != "" {
					name = strings.ToLower(sch) + "." + name
				}
				if rls[name] {
					hits[name] = true
				}
			})
		})
	}
	if len(hits) == 0 {
		return false, detail
	}
	return true, detail + strings.Join(sortedKeys(hits), ", ")
}

// intoNames are the variables a SELECT ... INTO fills.
func intoNames(target any) []string {
	var names []string
	walk(target, nil, func(k string, obj map[string]any, _ []string) {
		switch k {
		case "PLpgSQL_row":
			fields, _ := obj["fields"].([]any)
			for _, f := range fields {
				if m, ok := f.(map[string]any); ok {
					if n, _ := m["name"].(string); n != "" {
						names = append(names, strings.ToLower(n))
					}
				}
			}
		case "PLpgSQL_var", "PLpgSQL_rec":
			if n, _ := obj["refname"].(string); n != "" {
				names = append(names, strings.ToLower(n))
			}
		}
	})
	if m, ok := target.(map[string]any); ok {
		for _, v := range m {
			if vm, ok := v.(map[string]any); ok {
				if n, _ := vm["refname"].(string); n != "" && !strings.HasPrefix(n, "(") {
					names = append(names, strings.ToLower(n))
				}
			}
		}
	}
	return names
}

// readsAuthUsers: the tree reads auth.users (a RangeVar).
func readsAuthUsers(tree node) bool {
	return contains(tree, "RangeVar", func(rv map[string]any) bool {
		sch, _ := rv["schemaname"].(string)
		rel, _ := rv["relname"].(string)
		return strings.EqualFold(sch, "auth") && strings.EqualFold(rel, "users")
	})
}

// usersReachResult (rule 0018, functions): input is the routine's
// language and text, and its OUT parameters, separated by \x1f; empty for
// views (always kept). A function exposes auth.users only when data read
// from it reaches what the function returns: the final statement of a SQL
// function reads it; or a RETURN / RETURN NEXT / RETURN QUERY of a
// PL/pgSQL body reads it, or returns (or fills an OUT parameter from) a
// variable a SELECT ... INTO filled from it. A lookup that only decides
// what to write or whether to raise does not.
func usersReachResult(input, detail string) (bool, string) {
	if input == "" {
		return true, detail
	}
	parts := strings.SplitN(input, "\x1f", 3)
	if len(parts) < 2 {
		return true, detail
	}
	lang, text := parts[0], parts[1]
	outs := map[string]bool{}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			if o != "" {
				outs[strings.ToLower(o)] = true
			}
		}
	}
	if lang != "plpgsql" {
		js, err := pg_query.ParseToJSON(text)
		if err != nil {
			return true, detail // no verdict: keep the finding
		}
		var tree struct {
			Stmts []map[string]any `json:"stmts"`
		}
		if json.Unmarshal([]byte(js), &tree) != nil || len(tree.Stmts) == 0 {
			return true, detail
		}
		return readsAuthUsers(tree.Stmts[len(tree.Stmts)-1]), detail
	}
	b, ok := parsePLBody(text)
	if !ok {
		return true, detail
	}
	tainted := map[string]bool{}
	for _, e := range b.Exprs {
		if e.Tree == nil {
			return true, detail // cannot read every statement: keep the finding
		}
		if readsAuthUsers(e.Tree) {
			switch e.Stmt {
			case "PLpgSQL_stmt_return", "PLpgSQL_stmt_return_next", "PLpgSQL_stmt_return_query":
				return true, detail
			case "PLpgSQL_stmt_execsql":
				for _, v := range e.Into {
					tainted[v] = true
					if outs[v] {
						return true, detail
					}
				}
			case "PLpgSQL_stmt_assign":
				tainted[e.Target] = true
				if outs[e.Target] {
					return true, detail
				}
			}
		}
	}
	for _, e := range b.Exprs {
		if e.Stmt != "PLpgSQL_stmt_return" && e.Stmt != "PLpgSQL_stmt_return_next" && e.Stmt != "PLpgSQL_stmt_return_query" {
			continue
		}
		for v := range tainted {
			if contains(e.Tree, "ColumnRef", func(ref map[string]any) bool {
				_, name := columnName(ref)
				return strings.ToLower(name) == v
			}) {
				return true, detail
			}
		}
	}
	return false, detail
}

// perRowHelper (rule 0060): input is the policy expression, the
// non-inlinable functions it depends on (schema.name and name, comma
// separated) and the table's columns, separated by \x1f. A finding when
// one of those functions is called with a column of the row as an
// argument: PostgreSQL cannot inline it nor hoist it into an initplan, so
// it runs once per row scanned.
func perRowHelper(input, detail string) (bool, string) {
	parts := strings.Split(input, "\x1f")
	if len(parts) != 3 {
		return false, detail
	}
	fns, cols := map[string]bool{}, map[string]bool{}
	for _, f := range strings.Split(parts[1], ",") {
		if f != "" {
			fns[strings.ToLower(f)] = true
		}
	}
	for _, c := range strings.Split(parts[2], ",") {
		if c != "" {
			cols[strings.ToLower(c)] = true
		}
	}
	tree, err := parseExpr(parts[0])
	if err != nil {
		return false, detail
	}
	hits := map[string]bool{}
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		if k != "FuncCall" {
			return
		}
		name := strings.ToLower(funcName(obj))
		if !fns[name] {
			return
		}
		args, _ := obj["args"].([]any)
		for _, a := range args {
			if contains(a, "ColumnRef", func(ref map[string]any) bool {
				qual, col := columnName(ref)
				return cols[strings.ToLower(col)] && (qual == "" || !strings.Contains(qual, "."))
			}) && !contains(a, "SubLink", func(map[string]any) bool { return true }) {
				hits[name+"()"] = true
			}
		}
	})
	if len(hits) == 0 {
		return false, detail
	}
	return true, detail + strings.Join(sortedKeys(hits), ", ")
}

// uidInCorrelatedSubquery (rule 0061): input is the policy expression and
// the table's name, separated by \x1f. A finding when a sub-query that
// refers to the policy's table (correlated: it runs once per row) calls
// auth.uid()/auth.jwt() directly rather than through (select auth.uid()).
func uidInCorrelatedSubquery(input, detail string) (bool, string) {
	expr, table, _ := strings.Cut(input, "\x1f")
	tree, err := parseExpr(expr)
	if err != nil {
		return false, detail
	}
	table = strings.ToLower(table)
	found := false
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		if found || k != "SubLink" {
			return
		}
		sub := obj["subselect"]
		correlated := contains(sub, "ColumnRef", func(ref map[string]any) bool {
			qual, _ := columnName(ref)
			return strings.ToLower(qual) == table
		})
		if !correlated {
			return
		}
		// auth.uid() called in this sub-query outside a nested (select ...)
		var direct func(n node) bool
		direct = func(n node) bool {
			switch x := n.(type) {
			case map[string]any:
				for k2, v := range x {
					if k2 == "SubLink" {
						continue // wrapped: evaluated once (an initplan)
					}
					if k2 == "FuncCall" {
						if fc, ok := v.(map[string]any); ok {
							name := strings.ToLower(funcName(fc))
							if name == "auth.uid" || name == "auth.jwt" || name == "auth.role" {
								return true
							}
						}
					}
					if direct(v) {
						return true
					}
				}
			case []any:
				for _, v := range x {
					if direct(v) {
						return true
					}
				}
			}
			return false
		}
		if direct(sub) {
			found = true
		}
	})
	return found, detail
}

var clockFuncs = map[string]bool{"now": true, "pg_catalog.now": true, "clock_timestamp": true, "statement_timestamp": true,
	"transaction_timestamp": true, "pg_catalog.clock_timestamp": true, "pg_catalog.statement_timestamp": true, "pg_catalog.transaction_timestamp": true}

// clockCheck (rule 0031): input is the CHECK's definition and what it
// calls (the rule's list), separated by \x1f. A CHECK whose only changing
// input is the clock, and whose every comparison with the clock stays true
// as time passes (born_on <= current_date - interval '18 years', created_at
// <= now()), never turns a valid row invalid: no finding. One that can
// (starts_at >= now(), expires > current_date) or that calls anything else
// that changes (random(), current_user, a stable function) is one.
func clockCheck(input, detail string) (bool, string) {
	def, calls, _ := strings.Cut(input, "\x1f")
	for _, c := range strings.Split(calls, ", ") {
		name, _, _ := strings.Cut(c, "()")
		name = strings.TrimSpace(strings.ToLower(name))
		switch name {
		case "now", "clock_timestamp", "statement_timestamp", "transaction_timestamp", "current_date", "current_timestamp", "localtimestamp":
		default:
			return true, detail // something else that changes
		}
	}
	expr := strings.TrimSpace(def)
	expr = strings.TrimPrefix(expr, "CHECK ")
	expr = strings.TrimSuffix(strings.TrimSuffix(expr, " NOT VALID"), " NO INHERIT")
	tree, err := parseExpr(expr)
	if err != nil {
		return true, detail
	}
	isClock := func(n node) bool {
		return contains(n, "FuncCall", func(fc map[string]any) bool { return clockFuncs[strings.ToLower(funcName(fc))] }) ||
			contains(n, "SQLValueFunction", func(v map[string]any) bool {
				switch v["op"] {
				case "SVFOP_CURRENT_DATE", "SVFOP_CURRENT_TIMESTAMP", "SVFOP_CURRENT_TIMESTAMP_N", "SVFOP_LOCALTIMESTAMP", "SVFOP_LOCALTIMESTAMP_N":
					return true
				}
				return false
			})
	}
	turns := false
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		if turns || k != "A_Expr" {
			return
		}
		l, r := obj["lexpr"], obj["rexpr"]
		lc, rc := isClock(l), isClock(r)
		if lc == rc {
			return // not a comparison with the clock (or both sides)
		}
		op := ""
		if names, ok := obj["name"].([]any); ok && len(names) == 1 {
			if m, ok := names[0].(map[string]any); ok {
				if s, ok := m["String"].(map[string]any); ok {
					op, _ = s["sval"].(string)
				}
			}
		}
		if obj["kind"] != "AEXPR_OP" {
			turns = true // BETWEEN, IN, ...: not read, keep the finding
			return
		}
		switch op {
		case "<", "<=", ">", ">=", "=", "<>", "!=":
		default:
			return // arithmetic on the clock (current_date - interval ...): the comparison above decides
		}
		// With the clock on the right, col >= clock can turn false as the
		// clock grows; col <= clock cannot. Mirror when it is on the left.
		if lc {
			switch op {
			case "<":
				op = ">"
			case "<=":
				op = ">="
			case ">":
				op = "<"
			case ">=":
				op = "<="
			}
		}
		switch op {
		case "<", "<=":
		default:
			turns = true
		}
	})
	return turns, detail
}

// uidColumns (rule 0062): input is the table's policy expressions and its
// uuid columns that reference nothing, separated by \x1f. A finding names
// those columns a policy compares with auth.uid() (or auth.jwt()->>'sub'):
// they hold user ids with nothing keeping them valid.
func uidColumns(input, detail string) (bool, string) {
	expr, list, _ := strings.Cut(input, "\x1f")
	cols := map[string]bool{}
	for _, c := range strings.Split(list, ",") {
		if c != "" {
			cols[strings.ToLower(c)] = true
		}
	}
	tree, err := parseExpr(expr)
	if err != nil {
		return false, detail
	}
	hits := map[string]bool{}
	colOf := func(n node) string {
		m, ok := n.(map[string]any)
		if !ok {
			return ""
		}
		if ref, ok := m["ColumnRef"].(map[string]any); ok {
			if _, name := columnName(ref); cols[strings.ToLower(name)] {
				return strings.ToLower(name)
			}
		}
		if tc, ok := m["TypeCast"].(map[string]any); ok {
			if ref, ok := tc["arg"].(map[string]any)["ColumnRef"].(map[string]any); ok {
				if _, name := columnName(ref); cols[strings.ToLower(name)] {
					return strings.ToLower(name)
				}
			}
		}
		return ""
	}
	walk(tree, nil, func(k string, obj map[string]any, _ []string) {
		if k != "A_Expr" {
			return
		}
		l, r := obj["lexpr"], obj["rexpr"]
		if c := colOf(l); c != "" && callsAuthIdentity(r) {
			hits[c] = true
		}
		if c := colOf(r); c != "" && callsAuthIdentity(l) {
			hits[c] = true
		}
	})
	if len(hits) == 0 {
		return false, detail
	}
	return true, detail + strings.Join(sortedKeys(hits), ", ")
}
