package lint

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteText writes findings as an aligned table with a summary line.
func WriteText(w io.Writer, res Result) {
	if len(res.Findings) == 0 {
		fmt.Fprintf(w, "no findings (%d ignored)\n", len(res.Ignored))
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LEVEL\tRULE\tOBJECT\tDETAIL")
	for _, f := range res.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Level, f.Rule, f.Key(), oneLine(f.Detail))
	}
	tw.Flush()
	fmt.Fprintln(w, summary(res))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func summary(res Result) string {
	c := map[string]int{}
	for _, f := range res.Findings {
		c[f.Level]++
	}
	return fmt.Sprintf("%d finding(s): %d error, %d warn, %d info; %d ignored", len(res.Findings), c["error"], c["warn"], c["info"], len(res.Ignored))
}

// WriteJSON writes {"findings": [...], "ignored": [...]}.
func WriteJSON(w io.Writer, res Result) error {
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	if res.Ignored == nil {
		res.Ignored = []IgnoredFinding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// WriteMarkdown writes a pull request comment.
func WriteMarkdown(w io.Writer, res Result) {
	fmt.Fprintln(w, "### dbtool lint")
	fmt.Fprintln(w)
	fmt.Fprintln(w, summary(res))
	if len(res.Findings) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| level | rule | object | detail | remediation |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	esc := func(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }
	for _, f := range res.Findings {
		fmt.Fprintf(w, "| %s | `%s` | `%s` | %s | %s |\n", f.Level, f.Rule, esc(f.Key()), esc(f.Detail), esc(f.Remediation))
	}
}

type junitSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Suite   junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes one test case per rule: it fails when the rule found
// something at failOn level or above; lower findings go to system-out.
func WriteJUnit(w io.Writer, res Result, rules []Rule, failOn string) error {
	byRule := map[string][]Finding{}
	for _, f := range res.Findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	s := junitSuite{Name: "dbtool lint"}
	for _, r := range rules {
		c := junitCase{Name: r.ID + " " + r.Name, Classname: "dbtool.lint." + r.Category}
		var lines []string
		for _, f := range byRule[r.Name] {
			lines = append(lines, fmt.Sprintf("%s %s: %s", f.Level, f.Key(), oneLine(f.Detail)))
		}
		if Exceeds(byRule[r.Name], failOn) {
			c.Failure = &junitFailure{Message: fmt.Sprintf("%d finding(s): %s", len(lines), r.Title), Type: r.Level,
				Body: strings.Join(lines, "\n") + "\nremediation: " + r.Remediation}
			s.Failures++
		} else if len(lines) > 0 {
			c.SystemOut = strings.Join(lines, "\n")
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suite: s}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Locator maps a finding's object to a file of the project (for SARIF
// physical locations); it returns "" when it does not know.
type Locator func(object, objectType string) string

// WriteSARIF writes SARIF 2.1.0 for code scanning.
func WriteSARIF(w io.Writer, res Result, rules []Rule, version string, locate Locator) error {
	type msg struct {
		Text string `json:"text"`
	}
	type ruleDesc struct {
		ID                   string            `json:"id"`
		Name                 string            `json:"name"`
		ShortDescription     msg               `json:"shortDescription"`
		FullDescription      msg               `json:"fullDescription"`
		Help                 msg               `json:"help"`
		DefaultConfiguration map[string]string `json:"defaultConfiguration"`
		Properties           map[string]any    `json:"properties"`
	}
	level := func(l string) string {
		switch l {
		case "error":
			return "error"
		case "warn":
			return "warning"
		}
		return "note"
	}
	var descs []ruleDesc
	index := map[string]int{}
	for i, r := range rules {
		index[r.Name] = i
		descs = append(descs, ruleDesc{ID: r.Name, Name: r.Name, ShortDescription: msg{r.Title}, FullDescription: msg{r.Description},
			Help: msg{r.Remediation}, DefaultConfiguration: map[string]string{"level": level(r.Level)},
			Properties: map[string]any{"category": r.Category, "dbtool-id": r.ID}})
	}
	var results []map[string]any
	for _, f := range res.Findings {
		loc := map[string]any{"logicalLocations": []map[string]string{{"fullyQualifiedName": f.Key(), "kind": f.ObjectType}}}
		if locate != nil {
			if file := locate(f.Object, f.ObjectType); file != "" {
				loc["physicalLocation"] = map[string]any{"artifactLocation": map[string]string{"uri": file}, "region": map[string]int{"startLine": 1}}
			}
		}
		results = append(results, map[string]any{
			"ruleId": f.Rule, "ruleIndex": index[f.Rule], "level": level(f.Level),
			"message":             msg{fmt.Sprintf("%s: %s", f.Key(), oneLine(f.Detail))},
			"locations":           []any{loc},
			"partialFingerprints": map[string]string{"dbtoolObject/v1": f.Rule + ":" + f.Key()},
		})
	}
	if results == nil {
		results = []map[string]any{}
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": map[string]any{"name": "dbtool", "version": version, "informationUri": "https://github.com/dbtool-dev/dbtool", "rules": descs}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// SortFindings orders findings by level (error first), rule, object.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if Rank(fs[i].Level) != Rank(fs[j].Level) {
			return Rank(fs[i].Level) > Rank(fs[j].Level)
		}
		if fs[i].Rule != fs[j].Rule {
			return fs[i].Rule < fs[j].Rule
		}
		return fs[i].Object < fs[j].Object
	})
}
