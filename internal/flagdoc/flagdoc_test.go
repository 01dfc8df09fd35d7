package flagdoc

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

// The README's reference is what the code generates now.
func TestReadmeFlagsAreCurrent(t *testing.T) {
	const path = "../../README.md"
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Splice(have)
	if err != nil {
		t.Fatalf("%v: the README has lost its flag block", err)
	}
	if bytes.Equal(have, want) {
		return
	}
	haveLines, wantLines := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(haveLines), len(wantLines)) {
		var h, w string
		if i < len(haveLines) {
			h = haveLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if h != w {
			t.Fatalf("the README's flags are not current: run make docs (go run ./internal/flagdoc/gen) and commit it\nline %d is:\n  %s\nwant:\n  %s", i+1, h, w)
		}
	}
}

// Splicing replaces the block and nothing else, and is stable.
func TestSpliceReplacesOnlyTheBlock(t *testing.T) {
	in := []byte("# Title\n\nbefore\n\n" + Begin + "\nold table\n" + End + "\n\nafter\n")
	out, err := Splice(in)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.HasPrefix(s, "# Title\n\nbefore\n\n"+Begin+"\n\n") || !strings.HasSuffix(s, "\n"+End+"\n\nafter\n") {
		t.Errorf("surroundings changed:\n%s", s)
	}
	if strings.Contains(s, "old table") || !strings.Contains(s, "| `--slurm-role` | `GPUWD_SLURM_ROLE` |") {
		t.Errorf("block not replaced:\n%s", s)
	}
	if again, _ := Splice(out); !bytes.Equal(again, out) {
		t.Error("splicing twice changes the README")
	}
	if _, err := Splice([]byte("no block")); err == nil {
		t.Error("a README without the block: want an error")
	}
}

func TestFlagsInNameOrderWithEnvAndDefault(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Duration("sample-interval", time.Second, "how often")
	fs.String("listen", ":9400", "address")
	fs.Bool("on", false, "a switch")
	got := Flags(fs)
	want := []Flag{
		{Name: "listen", Env: "GPUWD_LISTEN", Default: ":9400", Usage: "address"},
		{Name: "on", Env: "GPUWD_ON", Default: "false", Usage: "a switch"},
		{Name: "sample-interval", Env: "GPUWD_SAMPLE_INTERVAL", Default: "1s", Usage: "how often"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d flags, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("flag %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// Pipes, line breaks and angle brackets in a usage must not break the table.
func TestMarkdownKeepsTheTableWhole(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("state", "up|down", "one of up|down\nfor <node>")
	fs.String("empty", "", "no default")
	var b bytes.Buffer
	Markdown(&b, []Program{{Command: "prog", About: "About prog.", Flags: fs}})
	out := b.String()
	for _, row := range []string{
		"| `--empty` | `GPUWD_EMPTY` |  | no default |",
		"| `--state` | `GPUWD_STATE` | `up\\|down` | one of up\\|down for &lt;node&gt; |",
	} {
		if !strings.Contains(out, row+"\n") {
			t.Errorf("missing row %s in:\n%s", row, out)
		}
	}
	if !strings.Contains(out, "### `prog`\n\nAbout prog.\n") {
		t.Errorf("no section for prog in:\n%s", out)
	}
}

// Both programs are covered, each with the flags its main adds itself.
func TestProgramsHaveTheirMainsFlags(t *testing.T) {
	want := map[string][]string{
		"gpuwd-agent": {"listen", "slurm-role", "munge-key", "token-file", "log-format", "log-level", "version"},
		"gpuwd serve": {"listen", "config", "data-dir", "retention", "log-format", "log-level"},
	}
	progs := Programs()
	if len(progs) != len(want) {
		t.Fatalf("got %d programs, want %d", len(progs), len(want))
	}
	for _, p := range progs {
		names, ok := want[p.Command]
		if !ok {
			t.Errorf("unexpected program %q", p.Command)
			continue
		}
		for _, n := range names {
			if p.Flags.Lookup(n) == nil {
				t.Errorf("%s: no --%s", p.Command, n)
			}
		}
	}
}
