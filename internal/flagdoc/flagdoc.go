package flagdoc

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gpu-watchdog/gpu-watchdog/internal/cli"
)

// EnvPrefix starts every flag's environment variable.
const EnvPrefix = "GPUWD_"

// Flag is one row of the reference.
type Flag struct {
	Name    string // without dashes
	Env     string // GPUWD_<NAME>; "" for --version
	Default string // as flag.PrintDefaults shows it; "" when none
	Usage   string
}

// Flags lists fs's flags in name order.
func Flags(fs *flag.FlagSet) []Flag {
	var out []Flag
	fs.VisitAll(func(f *flag.Flag) {
		fl := Flag{Name: f.Name, Default: f.DefValue, Usage: f.Usage}
		if cli.HasEnv(f.Name) {
			fl.Env = cli.EnvName(EnvPrefix, f.Name)
		}
		out = append(out, fl)
	})
	return out
}

// Program is one program's section of the reference.
type Program struct {
	Command string // as typed: "gpuwd serve"
	About   string // a paragraph of Markdown
	Flags   *flag.FlagSet
}

// The README's reference lies between these lines; make docs rewrites it.
const (
	Begin = "<!-- flags: generated from the programs' flag sets by make docs (go run ./internal/flagdoc/gen); do not edit -->"
	End   = "<!-- end of flags -->"
)

// Generate renders the reference of every program, as the README holds it
// between Begin and End.
func Generate() []byte {
	var b bytes.Buffer
	Markdown(&b, Programs())
	return b.Bytes()
}

// Splice returns readme with the reference between Begin and End replaced
// by Generate's.
func Splice(readme []byte) ([]byte, error) {
	i := bytes.Index(readme, []byte(Begin))
	j := bytes.Index(readme, []byte(End))
	if i < 0 || j < i {
		return nil, fmt.Errorf("no %q ... %q block", Begin, End)
	}
	var b bytes.Buffer
	b.Write(readme[:i+len(Begin)])
	b.WriteString("\n\n")
	b.Write(Generate())
	b.WriteString("\n")
	b.Write(readme[j:])
	return b.Bytes(), nil
}

// Markdown writes the reference of progs: a table per program.
func Markdown(w io.Writer, progs []Program) {
	fmt.Fprint(w, `Every flag is also an environment variable: `+"`GPUWD_`"+` and the flag's name in upper snake
case (`+"`--sample-interval`"+` is `+"`GPUWD_SAMPLE_INTERVAL`"+`). A flag on the command line wins over
the environment, which wins over the default. The systemd units read the environment from
`+"`/etc/default/gpuwd-agent`"+` and `+"`/etc/default/gpuwd`"+`; a RunPod pod from its template's env.
`)
	for _, p := range progs {
		fmt.Fprintf(w, "\n### `%s`\n\n%s\n\n", p.Command, p.About)
		fmt.Fprintln(w, "| flag | env | default | description |")
		fmt.Fprintln(w, "|---|---|---|---|")
		for _, f := range Flags(p.Flags) {
			def, env := "", "–"
			if f.Default != "" {
				def = code(f.Default)
			}
			if f.Env != "" {
				env = code(f.Env)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", code("--"+f.Name), env, def, text(f.Usage))
		}
	}
}

// code quotes s as inline code, escaping the table's pipes.
func code(s string) string {
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

// text makes s safe in a table cell: no pipes, line breaks or HTML.
var text = strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace
