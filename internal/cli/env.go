package cli

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// EnvName is the environment variable that sets the flag name: "sample-interval"
// becomes "GPUWD_SAMPLE_INTERVAL".
func EnvName(prefix, flagName string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// commandFlags ask for something once (print the version and exit) rather
// than set something: no environment variable sets them, so GPUWD_VERSION
// in an image's environment does not stop the program.
var commandFlags = map[string]bool{"version": true, "help": true, "h": true}

// HasEnv reports whether an environment variable sets the flag name.
func HasEnv(flagName string) bool { return !commandFlags[flagName] }

// Parse parses args into fs, then fills every flag not given on the command
// line from its environment variable (see EnvName), but for commandFlags. Command-line flags win over
// the environment; the environment wins over defaults. lookup is os.LookupEnv
// in production and a map in tests.
func Parse(fs *flag.FlagSet, args []string, prefix string, lookup func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if lookup == nil {
		lookup = os.LookupEnv
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil || !HasEnv(f.Name) {
			return
		}
		name := EnvName(prefix, f.Name)
		if v, ok := lookup(name); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("environment %s=%q: %w", name, v, setErr)
			}
		}
	})
	return err
}

// UsageWithEnv makes fs's usage text name each flag's environment variable.
func UsageWithEnv(fs *flag.FlagSet, prefix string) {
	fs.VisitAll(func(f *flag.Flag) {
		if HasEnv(f.Name) {
			f.Usage = fmt.Sprintf("%s (env %s)", f.Usage, EnvName(prefix, f.Name))
		}
	})
}

// flagRef is a flag named in a message: --name.
var flagRef = regexp.MustCompile(`--([a-z0-9][a-z0-9-]*)`)

// WithEnvNames adds the environment variable after each flag of fs that msg
// names ("--slurm-conf-server" becomes "--slurm-conf-server
// (GPUWD_SLURM_CONF_SERVER)"), for people who set them through the
// environment, as on a pod. A name already followed by its variable is left
// as it is.
func WithEnvNames(msg string, fs *flag.FlagSet, prefix string) string {
	var b strings.Builder
	last := 0
	for _, m := range flagRef.FindAllStringSubmatchIndex(msg, -1) {
		name := msg[m[2]:m[3]]
		if fs.Lookup(name) == nil || !HasEnv(name) {
			continue
		}
		env := EnvName(prefix, name)
		if strings.HasPrefix(msg[m[1]:], " ("+env) {
			continue
		}
		b.WriteString(msg[last:m[1]])
		b.WriteString(" (" + env + ")")
		last = m[1]
	}
	b.WriteString(msg[last:])
	return b.String()
}
