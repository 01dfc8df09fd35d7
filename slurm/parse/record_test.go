package parse

import (
	"reflect"
	"testing"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		in   string
		want Record
	}{
		{"PartitionName=gpu Nodes=w[1-2] State=UP", Record{{"PartitionName", "gpu"}, {"Nodes", "w[1-2]"}, {"State", "UP"}}},
		{"NodeName=w1 OS=Linux 6.1 #1 SMP PREEMPT_DYNAMIC @0  RealMemory=4000", Record{
			{"NodeName", "w1"}, {"OS", "Linux 6.1 #1 SMP PREEMPT_DYNAMIC @0"}, {"RealMemory", "4000"}}},
		{"NodeName=w6 Reason=maint [ticket 42] [root@2026-11-23T05:38:14]", Record{
			{"NodeName", "w6"}, {"Reason", "maint [ticket 42] [root@2026-11-23T05:38:14]"}}},
		{"NodeName=w3 Reason=disk full | bad [root@2026-11-23T05:38:14] Comment=x", Record{
			{"NodeName", "w3"}, {"Reason", "disk full | bad [root@2026-11-23T05:38:14]"}, {"Comment", "x"}}},
		{"AllocTRES= CurrentWatts=0 ", Record{{"AllocTRES", ""}, {"CurrentWatts", "0"}}},
		{"TRES=cpu=1,mem=100M Socks/Node=* NtasksPerN:B:S:C=0:0:*:* AllocNode:Sid=localhost:6830 CPU_IDs=0-1", Record{
			{"TRES", "cpu=1,mem=100M"}, {"Socks/Node", "*"}, {"NtasksPerN:B:S:C", "0:0:*:*"},
			{"AllocNode:Sid", "localhost:6830"}, {"CPU_IDs", "0-1"}}},
		{"JOB_GRES=gpu:1   Nodes=w1 GRES=gpu:1(IDX:0)   Nodes=w2 GRES=", Record{
			{"JOB_GRES", "gpu:1"}, {"Nodes", "w1"}, {"GRES", "gpu:1(IDX:0)"}, {"Nodes", "w2"}, {"GRES", ""}}},
		{"Command=/bin/train --lr=0.1 x=y WorkDir=/tmp", Record{ // lower-case words are not keys
			{"Command", "/bin/train --lr=0.1 x=y"}, {"WorkDir", "/tmp"}}},
		{"   MinCPUsNode=1", Record{{"MinCPUsNode", "1"}}},
	}
	for _, tt := range tests {
		got, err := ParseRecord(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseRecord(%q) =\n%q, %v\nwant %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"garbage", "slurm_load_jobs error: Invalid job id specified", "=x", "lower=case"} {
		if got, err := ParseRecord(in); err == nil {
			t.Errorf("ParseRecord(%q) = %q, want an error", in, got)
		}
	}
}

func TestRecordGet(t *testing.T) {
	r := Record{{"Nodes", "w1"}, {"Nodes", "w2"}, {"Empty", ""}}
	if v, ok := r.Get("Nodes"); v != "w1" || !ok {
		t.Errorf("Get(Nodes) = %q, %v", v, ok)
	}
	if v, ok := r.Get("Empty"); v != "" || !ok {
		t.Errorf("Get(Empty) = %q, %v", v, ok)
	}
	if _, ok := r.Get("None"); ok {
		t.Error("Get of a missing key is ok")
	}
}

// The node records of 22.05, 24.11 and 26.05: spaces in OS and Reason,
// double spaces, a trailing space, dynamic-node states.
func TestRecordsNodes(t *testing.T) {
	tests := []struct {
		file       string
		n          int
		key, value string // of the last record
	}{
		{"22.05-scontrol-node-w6.txt", 1, "Reason", "maint [ticket 42] [root@2026-11-23T05:38:14]"},
		{"22.05-scontrol-node-w9.txt", 1, "State", "DOWN+DYNAMIC_NORM+NOT_RESPONDING"},
		{"24.11-scontrol-nodes.txt", 4, "Gres", "gpu:model_a:2,gpu:model_b:2"},
		{"24.11-scontrol-nodes.txt", 4, "AveWatts", "0"},
		{"26.05-scontrol-nodes.txt", 2, "OS", "Linux 6.18.33.2-microsoft-standard-WSL2 #1 SMP PREEMPT_DYNAMIC Thu Jun 18 21:54:43 UTC 2026"},
		{"26.05-scontrol-nodes.txt", 2, "State", "IDLE+DYNAMIC_NORM"},
		{"26.05-scontrol-nodes.txt", 2, "AllocTRES", ""},
	}
	for _, tt := range tests {
		recs, err := Records(readTestdata(t, tt.file))
		if err != nil || len(recs) != tt.n {
			t.Fatalf("%s: %d records, %v; want %d", tt.file, len(recs), err, tt.n)
		}
		if v, _ := recs[tt.n-1].Get(tt.key); v != tt.value {
			t.Errorf("%s: %s=%q, want %q", tt.file, tt.key, v, tt.value)
		}
	}
}
