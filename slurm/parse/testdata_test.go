package parse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testdataParsers says which parser reads which testdata file.
var testdataParsers = []struct {
	suffix string
	parse  func([]byte) error
}{
	{"-sinfo-nodes.txt", func(b []byte) error { _, err := Nodes(b); return err }},
	{"-squeue-jobs.txt", func(b []byte) error { _, err := Jobs(b); return err }},
	{"-scontrol-partitions.txt", func(b []byte) error { _, err := Partitions(b); return err }},
	{"-sdiag.txt", func(b []byte) error { _, err := Sdiag(b); return err }},
	{"-scontrol-node", func(b []byte) error { _, err := Records(b); return err }},
	{"-squeue-node-", func(b []byte) error { _, err := NodeJobs(b); return err }},
}

// Every captured or synthesized output parses (the bad ones are in the
// table tests).
func TestTestdataParses(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatal("no testdata", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		var parse func([]byte) error
		for _, p := range testdataParsers {
			if strings.Contains(name, p.suffix) {
				parse = p.parse
			}
		}
		if strings.Contains(name, "-scontrol-job-") {
			parse = func(b []byte) error { _, err := JobDetails(b); return err }
			if strings.HasSuffix(name, "-invalid.txt") {
				continue // scontrol's error message
			}
		}
		if parse == nil {
			t.Errorf("%s: no parser for it", name)
			continue
		}
		if err := parse(readTestdata(t, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
