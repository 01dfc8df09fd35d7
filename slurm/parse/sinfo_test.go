package parse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// What sinfo printed on a real Slurm 22.05.8 cluster: nodes allocated,
// mixed, drained with a '|' in the reason, draining, idle, inval, down*.
func TestNodes2205(t *testing.T) {
	nodes, err := Nodes(readTestdata(t, "22.05-sinfo-nodes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 9 {
		t.Fatalf("%d nodes, want 9 (each once)", len(nodes))
	}
	want := map[string]Node{
		"w1": {Name: "w1", Partitions: []string{"gpu", "debug"}, State: "allocated",
			CPUs: CPUs{4, 0, 0, 4}, MemAlloc: 1000, MemTotal: 4000, GPUs: 2, GPUsUsed: 2},
		"w3": {Name: "w3", Partitions: []string{"gpu", "debug"}, State: "drained", Reason: "disk full | bad",
			CPUs: CPUs{0, 0, 2, 2}, MemTotal: 2000},
		"w4": {Name: "w4", Partitions: []string{"gpu", "debug"}, State: "mixed",
			CPUs: CPUs{2, 2, 0, 4}, MemAlloc: 200, MemTotal: 4000, GPUs: 3, GPUsUsed: 2},
		"w5": {Name: "w5", Partitions: []string{"gpu", "debug"}, State: "allocated",
			CPUs: CPUs{0, 4, 0, 4}, MemAlloc: 100, MemTotal: 4000, GPUs: 4, GPUsUsed: 1},
		"w6": {Name: "w6", Partitions: []string{"gpu", "debug"}, State: "draining", Reason: "maint [ticket 42]",
			CPUs: CPUs{3, 0, 13, 16}, MemAlloc: 300, MemTotal: 16000, GPUs: 8, GPUsUsed: 3},
		"w8": {Name: "w8", Partitions: []string{"gpu", "debug"}, State: "inval",
			Reason: "gres/gpu count reported lower than configured (0 < 2)",
			CPUs:   CPUs{0, 0, 4, 4}, MemTotal: 4000, GPUs: 2},
		"w9": {Name: "w9", Partitions: []string{"gpu", "debug"}, State: "down*", Reason: "power supply failed",
			CPUs: CPUs{0, 0, 2, 2}, MemTotal: 2000},
	}
	for _, n := range nodes {
		if w, ok := want[n.Name]; ok && !reflect.DeepEqual(n, w) {
			t.Errorf("node %s:\n got %+v\nwant %+v", n.Name, n, w)
		}
	}
}

// Newer states and GRES strings (synthesized from 24.11–25.11 captures).
func TestNodesNewer(t *testing.T) {
	nodes, err := Nodes(readTestdata(t, "24.11-sinfo-nodes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Node{}
	for _, n := range nodes {
		got[n.Name] = n
	}
	for _, tt := range []struct {
		name, state string
		gpus, used  int
		parts       int
	}{
		{"na1", "mixed", 0, 0, 3},
		{"nb9", "mixed", 4, 1, 1},   // two types, one unused: (IDX:N/A)
		{"a005", "mixed-", 4, 2, 2}, // IDX:0,3
		{"a006", "planned", 4, 0, 1},
		{"a003", "idle~", 4, 0, 1},
		{"a002", "drained*", 4, 0, 1},
		{"dgx2", "mixed", 16, 13, 1}, // IDX:0-3,5-7,9-11,13-15
		{"mig1", "idle", 21, 0, 1},
		{"c002", "allocated+", 0, 0, 1},
	} {
		n := got[tt.name]
		if n.State != tt.state || n.GPUs != tt.gpus || n.GPUsUsed != tt.used || len(n.Partitions) != tt.parts {
			t.Errorf("%s: %+v, want state %s, %d/%d GPUs, %d partitions", tt.name, n, tt.state, tt.used, tt.gpus, tt.parts)
		}
	}
	if r := got["a007"].Reason; r != "xid 79 | reset pending" {
		t.Errorf("a007 reason %q", r)
	}
}

func TestNodesEmpty(t *testing.T) {
	for _, out := range []string{"", "\n", "  \n\n"} {
		if nodes, err := Nodes([]byte(out)); err != nil || len(nodes) != 0 {
			t.Errorf("Nodes(%q) = %v, %v; want none", out, nodes, err)
		}
	}
}

func TestNodesBad(t *testing.T) {
	good := "w1|gpu|idle|0/4/0/4|0|4000|gpu:h100:2|gpu:h100:0(IDX:N/A)|none\n"
	tests := []struct {
		name, out, want string
		line            int
	}{
		{"garbage", "sinfo: error: Invalid node state specified\n", "fields", 1},
		{"truncated line", good + "w2|gpu|idle|0/4\n", "4 |-separated fields, want 9", 2},
		{"wrong field count", good + good + "w3|gpu|idle|0/4/0/4|0|4000\n", "fields", 3},
		{"bad CPUsState", "w1|gpu|idle|0/4/0|0|4000|(null)|(null)|none\n", "CPUsState", 1},
		{"bad CPUsState number", "w1|gpu|idle|0/4/x/4|0|4000|(null)|(null)|none\n", "CPUsState", 1},
		{"bad memory", "w1|gpu|idle|0/4/0/4|0|lots|(null)|(null)|none\n", "Memory", 1},
		{"bad alloc memory", "w1|gpu|idle|0/4/0/4|-1|4000|(null)|(null)|none\n", "AllocMem", 1},
		{"bad Gres", "w1|gpu|idle|0/4/0/4|0|4000|gpu:h100:x|(null)|none\n", "Gres", 1},
		{"bad GresUsed", "w1|gpu|idle|0/4/0/4|0|4000|gpu:2|gpu:2(IDX:0|none\n", "GresUsed", 1},
		{"no name", "|gpu|idle|0/4/0/4|0|4000|(null)|(null)|none\n", "NodeList", 1},
		{"no state", "w1|gpu||0/4/0/4|0|4000|(null)|(null)|none\n", "StateLong", 1},
		{"padded fields", "w1                  gpu                 idle\n", "fields", 1},
	}
	for _, tt := range tests {
		_, err := Nodes([]byte(tt.out))
		var le *LineError
		if !errors.As(err, &le) || le.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want line %d: …%s…", tt.name, err, tt.line, tt.want)
		}
	}
}

func TestNodesArgs(t *testing.T) {
	format := NodesArgs[len(NodesArgs)-1]
	if !strings.HasSuffix(format, ",Reason:0") {
		t.Errorf("Reason is not the last field: %s", format)
	}
	if n := strings.Count(format, ",") + 1; n != nodeFields {
		t.Errorf("%d fields asked for, %d parsed", n, nodeFields)
	}
}

// A node and partition shown twice count once.
func TestNodesPartitionOnce(t *testing.T) {
	line := "w1|gpu|idle|0/4/0/4|0|4000|(null)|(null)|none\n"
	nodes, err := Nodes([]byte(line + line + strings.Replace(line, "|gpu|", "|debug|", 1)))
	if err != nil || len(nodes) != 1 || !reflect.DeepEqual(nodes[0].Partitions, []string{"gpu", "debug"}) {
		t.Errorf("%+v, %v", nodes, err)
	}
}
