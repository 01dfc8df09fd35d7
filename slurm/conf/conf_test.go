package conf

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

func testCluster() Cluster {
	return Cluster{Name: "gpuwd", Partition: "gpu", ControllerHost: "head", ControllerAddr: "10.0.0.1",
		Port: 6817, MaxNodes: 256, StateDir: "/var/lib/gpuwd/slurm"}
}

func TestGeneratedFilesMatchGolden(t *testing.T) {
	b, err := SlurmConf(testCluster())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "slurm.conf", b)
	golden(t, "gres.conf", GresConf())
	golden(t, "cgroup.conf", CgroupConf(false))
	golden(t, "cgroup-systemd.conf", CgroupConf(true))
}

func TestSlurmConfHasWhatPodsNeed(t *testing.T) {
	b, _ := SlurmConf(testCluster())
	for _, want := range []string{"SlurmctldParameters=enable_configless", "MaxNodeCount=256", "SelectType=select/cons_tres",
		"GresTypes=gpu", "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "SlurmctldHost=head(10.0.0.1)",
		"PartitionName=gpu Nodes=ALL Default=YES"} {
		if !strings.Contains(string(b), want+"\n") && !strings.Contains(string(b), want+" ") {
			t.Errorf("slurm.conf lacks %q", want)
		}
	}
	if !strings.Contains(string(GresConf()), "File="+GresDir+"/gpu[0-15]") {
		t.Errorf("gres.conf names no device files: GPUs without File= make the node INVAL")
	}
}

func TestClusterCheckSaysEverythingWrong(t *testing.T) {
	c := Cluster{Name: "Bad Name", Partition: "a b", ControllerHost: "", ControllerAddr: "x y", Port: 0, MaxNodes: 0, StateDir: "rel"}
	_, err := SlurmConf(c)
	if err == nil {
		t.Fatal("a bad cluster was accepted")
	}
	for _, want := range []string{"cluster name", "partition name", "controller host", "controller address", "port", "max nodes", "state directory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestSlurmdConf(t *testing.T) {
	tests := []struct {
		node Node
		want string
	}{
		{Node{GPUs: 8, RealMemMiB: 200000, Features: []string{"h100", "", "team-a", "h100"}}, "Gres=gpu:8 RealMemory=200000 Feature=h100,team-a"},
		{Node{GPUs: 0, CPUs: 4, RealMemMiB: 1000}, "CPUs=4 RealMemory=1000"},
		{Node{GPUs: 20}, "Gres=gpu:16"},
		{Node{}, ""},
	}
	for _, tt := range tests {
		got, err := SlurmdConf(tt.node)
		if err != nil || got != tt.want {
			t.Errorf("SlurmdConf(%+v) = %q, %v; want %q", tt.node, got, err, tt.want)
		}
	}
	if _, err := SlurmdConf(Node{Features: []string{"a b"}}); err == nil {
		t.Error("a feature with a space was accepted")
	}
}

func TestModelFeature(t *testing.T) {
	for name, want := range map[string]string{
		"NVIDIA H100 80GB HBM3":          "h100",
		"NVIDIA H100 PCIe":               "h100",
		"NVIDIA H100 NVL":                "h100",
		"NVIDIA H200":                    "h200",
		"NVIDIA A100-SXM4-80GB":          "a100",
		"NVIDIA A100 80GB PCIe":          "a100",
		"Tesla V100-SXM2-16GB":           "v100",
		"NVIDIA GeForce RTX 4090":        "rtx4090",
		"NVIDIA RTX A6000":               "rtxa6000",
		"NVIDIA RTX 6000 Ada Generation": "rtx6000ada",
		"NVIDIA L40S":                    "l40s",
		"NVIDIA A10G":                    "a10g",
		"":                               "gpu",
	} {
		if got := ModelFeature(name); got != want {
			t.Errorf("ModelFeature(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	for in, want := range map[string]string{"head": "head:6817", "10.0.0.1:7000": "10.0.0.1:7000", "[fd00::1]:6817": "fd00::1:6817", "fd00::1": "fd00::1:6817"} {
		h, p, err := SplitHostPort(in, 6817)
		if got := h + ":" + strconv.Itoa(p); err != nil || got != want {
			t.Errorf("SplitHostPort(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "head:x", "head:70000", ":6817"} {
		if _, _, err := SplitHostPort(bad, 6817); err == nil {
			t.Errorf("SplitHostPort(%q) accepted", bad)
		}
	}
}
