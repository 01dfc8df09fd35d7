package parse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestPartitions(t *testing.T) {
	parts, err := Partitions(readTestdata(t, "22.05-scontrol-partitions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Partition{
		{Name: "gpu", State: "UP", Nodes: "w[1-9]", TotalCPUs: 48, TotalNodes: 9},
		{Name: "empty", State: "UP", TotalCPUs: 0, TotalNodes: 0}, // Nodes=(null)
		{Name: "debug", State: "UP", Nodes: "w[1-9]", TotalCPUs: 48, TotalNodes: 9},
	}
	if !reflect.DeepEqual(parts, want) {
		t.Errorf("got %+v\nwant %+v", parts, want)
	}

	parts, err = Partitions(readTestdata(t, "24.11-scontrol-partitions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Partition{}
	for _, p := range parts {
		got[p.Name] = p
	}
	if p := got["public-gpu"]; p.Nodes != "gpu[001-003]" || p.TotalCPUs != 272 || p.TotalNodes != 3 {
		t.Errorf("public-gpu: %+v", p)
	}
	if p := got["a3mega"]; p.Nodes != "a3mega-a3meganodesa-[0-79],a3mega-a3meganodesb-[0-63]" || p.TotalNodes != 144 {
		t.Errorf("a3mega: %+v", p)
	}
	if p := got["spare"]; p.State != "INACTIVE" || p.Nodes != "" {
		t.Errorf("spare: %+v", p)
	}
}

func TestPartitionsEmpty(t *testing.T) {
	for _, out := range []string{"", "No partitions in the system\n"} {
		if parts, err := Partitions([]byte(out)); err != nil || len(parts) != 0 {
			t.Errorf("Partitions(%q) = %v, %v", out, parts, err)
		}
	}
}

func TestPartitionsBad(t *testing.T) {
	for _, tt := range []struct{ out, want string }{
		{"garbage\n", "Key=Value"},
		{"PartitionName=gpu TotalCPUs=4\nAllowGroups=ALL\n", "no PartitionName"},
		{"PartitionName=gpu TotalCPUs=many\n", "TotalCPUs"},
		{"PartitionName=gpu TotalNodes=-1\n", "TotalNodes"},
	} {
		_, err := Partitions([]byte(tt.out))
		var le *LineError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Partitions(%q): %v, want …%s…", tt.out, err, tt.want)
		}
	}
}
