package pgtap

import (
	"fmt"
	"regexp"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// metaLine is a psql meta-command at the start of a line, with its name.
var metaLine = regexp.MustCompile(`(?m)^[ \t]*\\([A-Za-z!?]+)[^\n]*`)

// safeMeta: psql meta-commands that only change psql's own printing or
// variables, so they do not decide how a file must be isolated.
var safeMeta = map[string]bool{"set": true, "unset": true, "echo": true, "qecho": true, "warn": true,
	"pset": true, "t": true, "a": true, "x": true, "timing": true, "encoding": true}

// RollsBack reports whether a test file runs entirely inside one
// transaction that it rolls back, so that it leaves the database as it
// found it (see sharedCloneReason, which says why not).
func RollsBack(src string) bool { return sharedCloneReason(src) == "" }

// sharedCloneReason decides whether a file can run on a clone that other
// files use too: it can when it is one transaction that it rolls back
// itself (BEGIN or START TRANSACTION first, ROLLBACK last, nothing but
// savepoints between, nothing but SET/RESET/SHOW and psql's printing
// settings before), as Supabase's and pg_prove's users write them. Its
// changes then vanish with its ROLLBACK (or with its session, when it
// stops on an error); sequences, which a rollback does not restore, are
// put back by the runner. The answer comes from PostgreSQL's parser.
//
// Otherwise it returns why the file needs a fresh clone of its own: it
// commits, runs statements outside its transaction (each of them commits
// under pg_prove, and transaction-local settings such as
// tests.authenticate_as last only one statement there, so the file cannot
// simply be wrapped in a transaction), uses a psql meta-command that may
// run other SQL (\i, \gexec, \c), or is not parsed.
func sharedCloneReason(src string) string {
	blanked := src
	for _, m := range metaLine.FindAllStringSubmatchIndex(src, -1) {
		name := src[m[2]:m[3]]
		line := src[m[0]:m[1]]
		if !safeMeta[name] || (name == "set" && strings.Contains(strings.ToUpper(line), "AUTOCOMMIT")) {
			return fmt.Sprintf("psql meta-command \\%s (line %d)", name, lineOf(src, m[0]))
		}
		blanked = blanked[:m[0]] + strings.Repeat(" ", m[1]-m[0]) + blanked[m[1]:]
	}
	tree, err := pg_query.Parse(blanked)
	if err != nil {
		return "not parsed as SQL: " + err.Error()
	}
	stmts := tree.GetStmts()
	begin := -1
	for i, s := range stmts {
		n := s.GetStmt()
		if t := n.GetTransactionStmt(); t != nil {
			k := t.GetKind()
			if k != pg_query.TransactionStmtKind_TRANS_STMT_BEGIN && k != pg_query.TransactionStmtKind_TRANS_STMT_START {
				return fmt.Sprintf("%s before any BEGIN (line %d)", txnWord(k), lineOf(src, int(s.GetStmtLocation())))
			}
			begin = i
			break
		}
		if n.GetVariableSetStmt() == nil && n.GetVariableShowStmt() == nil {
			return fmt.Sprintf("runs statements outside a transaction it rolls back (line %d)", lineOf(src, int(s.GetStmtLocation())))
		}
	}
	if begin < 0 {
		return "no BEGIN ... ROLLBACK around its statements"
	}
	last := len(stmts) - 1
	if t := stmts[last].GetStmt().GetTransactionStmt(); t == nil || t.GetKind() != pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK || last == begin {
		return fmt.Sprintf("does not end with the ROLLBACK of its transaction (line %d)", lineOf(src, int(stmts[last].GetStmtLocation())))
	}
	for _, s := range stmts[begin+1 : last] {
		t := s.GetStmt().GetTransactionStmt()
		if t == nil {
			continue
		}
		switch t.GetKind() {
		case pg_query.TransactionStmtKind_TRANS_STMT_SAVEPOINT, pg_query.TransactionStmtKind_TRANS_STMT_RELEASE, pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		default:
			return fmt.Sprintf("%s inside the file (line %d)", txnWord(t.GetKind()), lineOf(src, int(s.GetStmtLocation())))
		}
	}
	return ""
}

func txnWord(k pg_query.TransactionStmtKind) string {
	switch k {
	case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
		return "BEGIN"
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT:
		return "COMMIT"
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		return "ROLLBACK"
	case pg_query.TransactionStmtKind_TRANS_STMT_PREPARE:
		return "PREPARE TRANSACTION"
	case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED:
		return "COMMIT PREPARED"
	case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
		return "ROLLBACK PREPARED"
	}
	return "a transaction statement"
}

func lineOf(src string, offset int) int {
	if offset > len(src) {
		offset = len(src)
	}
	// A statement's location may point at the blank before it.
	for offset < len(src) && (src[offset] == ' ' || src[offset] == '\n' || src[offset] == '\t' || src[offset] == '\r') {
		offset++
	}
	return strings.Count(src[:offset], "\n") + 1
}
