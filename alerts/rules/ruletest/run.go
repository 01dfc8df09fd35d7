package ruletest

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Options configure Run.
type Options struct {
	// Run, when set, runs only the test groups whose name matches one of
	// these regular expressions, as promtool's --run does.
	Run []string
}

// Exit codes of Run, as promtool's.
const (
	ExitSuccess = 0
	ExitFailure = 1
)

// Run runs the test files as `promtool test rules FILE...` does and writes
// its report to w: for each file "Unit Testing:  FILE", then "  SUCCESS" or
// "  FAILED:" and every failure. It returns ExitFailure when any test of
// any file failed (or a file could not be read), ExitSuccess otherwise.
func Run(w io.Writer, files []string, opts Options) int {
	var run *regexp.Regexp
	if len(opts.Run) > 0 {
		re, err := regexp.Compile(strings.Join(opts.Run, "|"))
		if err != nil {
			fmt.Fprintf(w, "invalid --run expression: %s\n", err)
			return ExitFailure
		}
		run = re
	}
	code := ExitSuccess
	for _, f := range files {
		fmt.Fprintln(w, "Unit Testing: ", f)
		if errs := testFile(w, f, run); len(errs) > 0 {
			fmt.Fprintln(w, "  FAILED:")
			for _, err := range errs {
				fmt.Fprintln(w, err.Error())
				fmt.Fprintln(w)
			}
			code = ExitFailure
		} else {
			fmt.Fprintln(w, "  SUCCESS")
		}
		fmt.Fprintln(w)
	}
	return code
}

// testFile runs one file's test groups and returns their failures.
func testFile(w io.Writer, name string, run *regexp.Regexp) []error {
	f, err := readFile(name, w)
	if err != nil {
		return []error{err}
	}
	order, err := f.groupOrder()
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, tg := range f.Tests {
		if run != nil && !run.MatchString(tg.TestGroupName) {
			continue
		}
		if tg.Interval == 0 {
			tg.Interval = f.EvaluationInterval
		}
		env := testEnv{
			evalInterval: time.Duration(f.EvaluationInterval),
			order:        order,
			fuzzy:        f.FuzzyCompare,
			ruleFiles:    f.RuleFiles,
		}
		errs = append(errs, tg.test(env)...)
	}
	return errs
}
