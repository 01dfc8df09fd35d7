package route

import (
	"errors"
	"fmt"
	"io"
)

// Check loads each file and reports on w as `amtool check-config` does:
//
//	Checking 'alerting.yml'  SUCCESS
//	Found:
//	 - global config
//	 - route
//	 - 1 inhibit rules
//	 - 2 receivers
//
// followed by the warnings. It returns an error when a file fails.
func Check(w io.Writer, files ...string) error {
	failed := 0
	for _, f := range files {
		c, err := Load(f)
		if err != nil {
			failed++
			fmt.Fprintf(w, "Checking '%s'  FAILED: %v\n\n", f, unwrapFile(err))
			continue
		}
		fmt.Fprintf(w, "Checking '%s'  SUCCESS\n", f)
		fmt.Fprintln(w, "Found:")
		fmt.Fprintln(w, " - global config")
		fmt.Fprintln(w, " - route")
		fmt.Fprintf(w, " - %d inhibit rules\n", len(c.InhibitRules))
		fmt.Fprintf(w, " - %d receivers\n", len(c.Receivers))
		for _, warn := range c.Warnings() {
			fmt.Fprintf(w, "Warning: %s\n", warn)
		}
		fmt.Fprintln(w)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d alerting configuration files failed the check", failed, len(files))
	}
	return nil
}

// unwrapFile drops Load's "alerting config <file>:" prefix, which Check
// already prints.
func unwrapFile(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}
