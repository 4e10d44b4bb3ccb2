// Package gotest runs a project's Go test suites and turns go test's JSON
// event stream into a summary and a JUnit XML report for CI.
package gotest

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// Event is one line of `go test -json`.
type Event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// Case is one test's result.
type Case struct {
	Package, Name string
	Result        string // pass, fail, skip
	Elapsed       float64
	Output        strings.Builder
}

// Report collects a run's results.
type Report struct {
	Cases    []*Case
	Packages map[string]string // package -> pass/fail (a build failure fails the package)
	pkgOut   map[string]*strings.Builder
}

// Counts returns passed, failed and skipped tests.
func (r *Report) Counts() (pass, fail, skip int) {
	for _, c := range r.Cases {
		switch c.Result {
		case "pass":
			pass++
		case "fail":
			fail++
		case "skip":
			skip++
		}
	}
	return
}

// Failed reports whether a test or a package failed.
func (r *Report) Failed() bool {
	_, fail, _ := r.Counts()
	if fail > 0 {
		return true
	}
	for _, res := range r.Packages {
		if res == "fail" {
			return true
		}
	}
	return false
}

// Run runs `go test -json args...` in dir with env added, echoes the plain
// test output to out, and returns the report. An error means go test could
// not run at all.
func Run(ctx context.Context, dir string, env []string, args []string, out io.Writer) (*Report, error) {
	return RunQuiet(ctx, dir, env, args, out, true)
}

// RunQuiet is Run echoing, unless verbose, only one line per package and
// the full output of failed tests (not the RUN/PAUSE/CONT of every test).
func RunQuiet(ctx context.Context, dir string, env []string, args []string, out io.Writer, verbose bool) (*Report, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-json"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = io.MultiWriter(&stderr, out)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	rep, perr := parse(stdout, out, verbose)
	werr := cmd.Wait()
	if perr != nil {
		return nil, perr
	}
	if werr != nil && len(rep.Cases) == 0 && len(rep.Packages) == 0 {
		return nil, fmt.Errorf("go test: %w\n%s", werr, stderr.String())
	}
	return rep, nil
}

// Parse reads go test's JSON events, echoing their output to echo.
func Parse(r io.Reader, echo io.Writer) (*Report, error) { return parse(r, echo, true) }

func parse(r io.Reader, echo io.Writer, verbose bool) (*Report, error) {
	rep := &Report{Packages: map[string]string{}, pkgOut: map[string]*strings.Builder{}}
	cases := map[string]*Case{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(echo, sc.Text()) // not an event (e.g. a build error line)
			continue
		}
		if e.Action == "output" && echo != nil && (verbose || (e.Test == "" && packageLine(e.Output))) {
			io.WriteString(echo, e.Output)
		}
		if e.Test == "" {
			if rep.pkgOut[e.Package] == nil {
				rep.pkgOut[e.Package] = &strings.Builder{}
			}
			switch e.Action {
			case "output":
				rep.pkgOut[e.Package].WriteString(e.Output)
			case "pass", "fail", "skip":
				rep.Packages[e.Package] = e.Action
			}
			continue
		}
		key := e.Package + "\x00" + e.Test
		c := cases[key]
		if c == nil {
			c = &Case{Package: e.Package, Name: e.Test}
			cases[key] = c
			rep.Cases = append(rep.Cases, c)
		}
		switch e.Action {
		case "output":
			c.Output.WriteString(e.Output)
		case "pass", "fail", "skip":
			c.Result, c.Elapsed = e.Action, e.Elapsed
			if e.Action == "fail" && !verbose && echo != nil {
				io.WriteString(echo, c.Output.String())
			}
		}
	}
	return rep, sc.Err()
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// Extra is a result produced outside go test (e.g. the access matrix check)
// to include in the JUnit report.
type Extra struct {
	Suite, Name string
	Failure     string // empty: passed
}

// WriteJUnit writes the report (and extra cases) as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer, extra []Extra) error {
	bySuite := map[string]*junitSuite{}
	suite := func(name string) *junitSuite {
		if s, ok := bySuite[name]; ok {
			return s
		}
		s := &junitSuite{Name: name}
		bySuite[name] = s
		return s
	}
	for _, c := range r.Cases {
		s := suite(c.Package)
		jc := junitCase{Name: c.Name, Classname: c.Package, Time: fmt.Sprintf("%.3f", c.Elapsed)}
		switch c.Result {
		case "fail":
			jc.Failure = &junitMessage{Message: "failed", Body: c.Output.String()}
			s.Failures++
		case "skip":
			jc.Skipped = &junitMessage{Message: "skipped", Body: c.Output.String()}
			s.Skipped++
		}
		s.Tests++
		s.Cases = append(s.Cases, jc)
	}
	for pkg, res := range r.Packages {
		if res == "fail" && suite(pkg).Failures == 0 {
			s := suite(pkg)
			body := ""
			if b := r.pkgOut[pkg]; b != nil {
				body = b.String()
			}
			s.Cases = append(s.Cases, junitCase{Name: "package", Classname: pkg, Failure: &junitMessage{Message: "package failed", Body: body}})
			s.Tests++
			s.Failures++
		}
	}
	for _, x := range extra {
		s := suite(x.Suite)
		jc := junitCase{Name: x.Name, Classname: x.Suite, Time: "0"}
		if x.Failure != "" {
			jc.Failure = &junitMessage{Message: "failed", Body: x.Failure}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, jc)
	}
	var out junitSuites
	names := make([]string, 0, len(bySuite))
	for n := range bySuite {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := *bySuite[n]
		s.Time = "0"
		out.Suites = append(out.Suites, s)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// packageLine: a package's result line ("ok  pkg 1.2s", "FAIL pkg",
// "?  pkg [no test files]") or a panic/build failure, not PASS or
// per-test chatter.
func packageLine(line string) bool {
	for _, p := range []string{"ok ", "ok\t", "FAIL", "?", "panic", "#"} {
		if strings.HasPrefix(line, p) {
			return line != "FAIL\n"
		}
	}
	return false
}
