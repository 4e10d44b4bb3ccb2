// Package sqlscan splits PostgreSQL scripts into statements the way the
// server's lexer sees them: semicolons inside quotes, quoted identifiers,
// dollar-quoted bodies and (nested) comments do not end a statement.
package sqlscan

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Statement is one statement of a script.
type Statement struct {
	SQL    string // the statement's text, without the terminating semicolon
	Offset int    // byte offset of the first non-blank character in the script
	Line   int    // 1-based line of Offset
}

// Split returns the non-empty statements of src in order.
func Split(src string) []Statement {
	var out []Statement
	chunks(src, func(start, end int) {
		text := src[start:end]
		if onlyComments(text) {
			return
		}
		off := start + leadingNoise(text)
		trimmed := src[off:end]
		out = append(out, Statement{SQL: strings.TrimRightFunc(trimmed, unicode.IsSpace), Offset: off, Line: 1 + strings.Count(src[:off], "\n")})
	})
	return out
}

// SplitLikeSupabase splits src the way the Supabase CLI records a
// migration's statements in supabase_migrations.schema_migrations: every
// piece between semicolons as it is (leading comments included), with the
// semicolon and surrounding white space trimmed, empty pieces dropped.
func SplitLikeSupabase(src string) []string {
	var out []string
	chunks(src, func(start, end int) {
		if t := strings.TrimSpace(src[start:end]); t != "" {
			out = append(out, t)
		}
	})
	return out
}

// chunks calls emit with the bounds of every piece of src between
// top-level semicolons (the semicolon excluded), the last one included
// even without a semicolon.
func chunks(src string, emit func(start, end int)) {
	start := 0
	i := 0
	for i < len(src) {
		switch c := src[i]; {
		case c == '\'':
			i = skipQuoted(src, i, '\'')
		case c == '"':
			i = skipQuoted(src, i, '"')
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(src)
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			i = skipBlockComment(src, i)
		case c == '$':
			if tag, ok := dollarTag(src, i); ok {
				if j := strings.Index(src[i+len(tag):], tag); j >= 0 {
					i += len(tag) + j + len(tag)
				} else {
					i = len(src)
				}
			} else {
				i++
			}
		case c == ';':
			emit(start, i)
			i++
			start = i
		default:
			i++
		}
	}
	if start < len(src) {
		emit(start, len(src))
	}
}

func skipQuoted(src string, i int, q byte) int {
	i++
	for i < len(src) {
		if src[i] == q {
			if i+1 < len(src) && src[i+1] == q { // doubled quote
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return i
}

func skipBlockComment(src string, i int) int {
	depth := 0
	for i < len(src) {
		switch {
		case strings.HasPrefix(src[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(src[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// dollarTag returns the $tag$ starting at i, if it is one.
func dollarTag(src string, i int) (string, bool) {
	// A $ preceded by an identifier character is part of a name (e.g. a$b) or a parameter ($1).
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(src[:i])
		if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return "", false
		}
	}
	j := i + 1
	for j < len(src) {
		r, size := utf8.DecodeRuneInString(src[j:])
		if r == '$' {
			return src[i : j+1], true
		}
		if !(r == '_' || unicode.IsLetter(r) || (j > i+1 && unicode.IsDigit(r))) {
			return "", false
		}
		j += size
	}
	return "", false
}

// leadingNoise returns the length of the blanks and comments s starts with.
func leadingNoise(s string) int {
	i := 0
	for i < len(s) {
		rest := s[i:]
		trimmed := strings.TrimLeftFunc(rest, unicode.IsSpace)
		i += len(rest) - len(trimmed)
		switch {
		case strings.HasPrefix(trimmed, "--"):
			j := strings.IndexByte(trimmed, '\n')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case strings.HasPrefix(trimmed, "/*"):
			i += skipBlockComment(trimmed, 0)
		default:
			return i
		}
	}
	return i
}

func onlyComments(s string) bool {
	for s != "" {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		switch {
		case s == "":
			return true
		case strings.HasPrefix(s, "--"):
			if j := strings.IndexByte(s, '\n'); j >= 0 {
				s = s[j+1:]
			} else {
				return true
			}
		case strings.HasPrefix(s, "/*"):
			s = s[skipBlockComment(s, 0):]
		default:
			return false
		}
	}
	return true
}

// FirstWords returns the statement's first n keywords in lower case, with
// comments skipped (e.g. "create index concurrently").
func FirstWords(stmt string, n int) []string {
	var words []string
	s := stmt
	for len(words) < n {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		switch {
		case s == "":
			return words
		case strings.HasPrefix(s, "--"):
			j := strings.IndexByte(s, '\n')
			if j < 0 {
				return words
			}
			s = s[j+1:]
			continue
		case strings.HasPrefix(s, "/*"):
			s = s[skipBlockComment(s, 0):]
			continue
		}
		end := strings.IndexFunc(s, func(r rune) bool { return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') })
		if end == 0 {
			return words
		}
		if end < 0 {
			end = len(s)
		}
		words = append(words, strings.ToLower(s[:end]))
		s = s[end:]
	}
	return words
}

// LineCol converts a 1-based character position (as PostgreSQL reports in
// an error's Position) into a 1-based line and column.
func LineCol(src string, pos int) (line, col int, ok bool) {
	if pos <= 0 {
		return 0, 0, false
	}
	line, col = 1, 1
	n := 0
	for _, r := range src {
		n++
		if n == pos {
			return line, col, true
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return 0, 0, false
}
