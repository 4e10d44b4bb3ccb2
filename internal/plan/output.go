package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats Write knows.
var Formats = []string{"text", "json", "markdown", "sarif"}

// Write prints the result in format (text, json, markdown or sarif).
func Write(w io.Writer, r *Result, format string) error {
	switch format {
	case "", "text":
		writeText(w, r)
		return nil
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "markdown":
		writeMarkdown(w, r)
		return nil
	case "sarif":
		return writeSARIF(w, r)
	}
	return fmt.Errorf("unknown format %q: want %s", format, strings.Join(Formats, ", "))
}

func lockLine(l Lock) string {
	s := fmt.Sprintf("%s %s", l.Mode, l.Relation)
	if !l.Existing {
		return s + " (new)"
	}
	s += fmt.Sprintf(" (%s", lockBlocks(l.Mode))
	if l.Estimate != "" {
		s += "; held " + l.Estimate
	}
	return s + ")"
}

func writeText(w io.Writer, r *Result) {
	for _, f := range r.Files {
		fmt.Fprintf(w, "%s (%s)\n", f.Path, f.Kind)
		for _, st := range f.Statements {
			fmt.Fprintf(w, "  %d: %s  [%s", st.Line, st.SQL, humanDuration(st.Duration.Seconds()))
			if st.RowsTouched > 0 {
				fmt.Fprintf(w, ", %d rows", st.RowsTouched)
			}
			fmt.Fprintln(w, "]")
			if st.Error != "" {
				fmt.Fprintf(w, "      FAILS: %s (SQLSTATE %s)\n", st.Error, st.SQLState)
			}
			for _, l := range st.Locks {
				if l.Existing {
					fmt.Fprintf(w, "      lock    %s\n", lockLine(l))
				}
			}
			for _, t := range st.Rewrites {
				fmt.Fprintf(w, "      rewrite %s\n", t)
			}
		}
	}
	if len(r.Access) > 0 {
		fmt.Fprintln(w, "\naccess (live matrix before -> after):")
		for _, c := range r.Access {
			fmt.Fprintln(w, "  "+c.String())
		}
	}
	if len(r.Grants) > 0 {
		fmt.Fprintln(w, "\ngrants to API roles:")
		for _, g := range r.Grants {
			fmt.Fprintln(w, "  "+g.String())
		}
	}
	if len(r.API) > 0 {
		fmt.Fprintln(w, "\nAPI (what PostgREST serves):")
		for _, c := range r.API {
			fmt.Fprintln(w, "  "+c.String())
		}
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w, "\nfindings:")
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  %-5s %s %s", f.Level, f.ID, f.Rule)
			if f.File != "" {
				fmt.Fprintf(w, "  %s:%d", f.File, f.Line)
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "        %s\n", f.Detail)
			if f.Evidence != "" {
				fmt.Fprintf(w, "        evidence: %s\n", f.Evidence)
			}
			if f.Hint != "" {
				fmt.Fprintf(w, "        hint: %s\n", f.Hint)
			}
		}
	}
	for _, n := range r.RowNotes {
		fmt.Fprintln(w, "note: "+n)
	}
	e, wn, i := r.Counts()
	fmt.Fprintf(w, "\nplan: %d files, %d error, %d warn, %d info, %d access changes, %d API changes\n",
		len(r.Files), e, wn, i, len(r.Access), len(r.API))
}

func writeMarkdown(w io.Writer, r *Result) {
	e, wn, i := r.Counts()
	fmt.Fprintf(w, "### dbtool migrate plan: %d error, %d warn, %d info\n\n", e, wn, i)
	if len(r.Findings) > 0 {
		fmt.Fprintln(w, "| level | rule | where | finding | evidence |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, f := range r.Findings {
			where := f.Object
			if f.File != "" {
				where = fmt.Sprintf("`%s:%d`", f.File, f.Line)
			}
			fmt.Fprintf(w, "| %s | %s `%s` | %s | %s | %s |\n", f.Level, f.ID, f.Rule, where, mdEscape(f.Detail), mdEscape(f.Evidence))
		}
		fmt.Fprintln(w)
	}
	if len(r.Access) > 0 {
		fmt.Fprintln(w, "**Access** (live matrix before → after)\n\n```diff")
		for _, c := range r.Access {
			fmt.Fprintln(w, c.String())
		}
		fmt.Fprintln(w, "```")
	}
	if len(r.API) > 0 {
		fmt.Fprint(w, "\n**API** (PostgREST surface)\n\n")
		for _, c := range r.API {
			fmt.Fprintf(w, "- %s\n", c.String())
		}
	}
	fmt.Fprint(w, "\n<details><summary>Locks per statement</summary>\n\n")
	for _, f := range r.Files {
		fmt.Fprintf(w, "- `%s`\n", f.Path)
		for _, st := range f.Statements {
			var ls []string
			for _, l := range st.Locks {
				if l.Existing {
					ls = append(ls, lockLine(l))
				}
			}
			for _, t := range st.Rewrites {
				ls = append(ls, "rewrites "+t)
			}
			if len(ls) > 0 {
				fmt.Fprintf(w, "  - line %d `%s`: %s\n", st.Line, mdEscape(st.SQL), mdEscape(strings.Join(ls, "; ")))
			}
		}
	}
	fmt.Fprintln(w, "\n</details>")
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

func writeSARIF(w io.Writer, r *Result) error {
	type msg struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string `json:"id"`
		Name             string `json:"name"`
		ShortDescription msg    `json:"shortDescription"`
		Help             msg    `json:"help"`
	}
	var rules []rule
	for _, x := range Rules() {
		rules = append(rules, rule{ID: x.ID, Name: x.Rule, ShortDescription: msg{x.Rule}, Help: msg{x.Hint}})
	}
	level := map[string]string{LevelError: "error", LevelWarn: "warning", LevelInfo: "note"}
	var results []map[string]any
	for _, f := range r.Findings {
		res := map[string]any{"ruleId": f.ID, "level": level[f.Level], "message": msg{strings.TrimSpace(f.Detail + " " + f.Evidence)}}
		if f.File != "" {
			res["locations"] = []map[string]any{{"physicalLocation": map[string]any{
				"artifactLocation": map[string]any{"uri": f.File},
				"region":           map[string]any{"startLine": max(f.Line, 1)},
			}}}
		}
		results = append(results, res)
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []map[string]any{{
			"tool":    map[string]any{"driver": map[string]any{"name": "dbtool migrate plan", "rules": rules}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
