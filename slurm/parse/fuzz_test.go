package parse

import (
	"path/filepath"
	"strings"
	"testing"
)

// seed adds the testdata files matching pattern, whole and line by line.
func seed(f *testing.F, pattern string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata for %s", pattern)
	}
	for _, file := range files {
		b := readTestdata(f, filepath.Base(file))
		f.Add(string(b))
		for line := range strings.Lines(string(b)) {
			f.Add(line)
		}
	}
	for _, s := range extra {
		f.Add(s)
	}
}

func FuzzNodes(f *testing.F) {
	seed(f, "*-sinfo-nodes.txt", "", "w1|gpu|idle|0/4/0/4|0|4000|gpu:2(IDX:0|x")
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := Nodes([]byte(s))
		if err != nil {
			return
		}
		for _, n := range nodes {
			if n.Name == "" || n.GPUs < 0 || n.GPUsUsed < 0 || n.CPUs.Total < 0 {
				t.Errorf("%+v", n)
			}
		}
	})
}

func FuzzJobs(f *testing.F) {
	seed(f, "*-squeue-jobs.txt", "")
	f.Fuzz(func(t *testing.T, s string) {
		jobs, err := Jobs([]byte(s))
		if err != nil {
			return
		}
		for _, j := range jobs {
			if j.CPUs < 0 || j.Nodes < 0 || j.GPUs < 0 {
				t.Errorf("%+v", j)
			}
		}
	})
}

func FuzzNodeJobs(f *testing.F) {
	seed(f, "*-squeue-node-*.txt", "")
	f.Fuzz(func(t *testing.T, s string) { _, _ = NodeJobs([]byte(s)) })
}

func FuzzRecord(f *testing.F) {
	seed(f, "*-scontrol-node*.txt", "A= B=", "Reason=x [y] Comment=z")
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseRecord(s)
		if err != nil {
			return
		}
		for _, fl := range rec {
			if fl.Key == "" || strings.ContainsAny(fl.Key, " =") {
				t.Errorf("key %q", fl.Key)
			}
		}
	})
}

func FuzzPartitions(f *testing.F) {
	seed(f, "*-scontrol-partitions.txt", "No partitions in the system")
	f.Fuzz(func(t *testing.T, s string) { _, _ = Partitions([]byte(s)) })
}

func FuzzJobDetails(f *testing.F) {
	seed(f, "*-scontrol-job-*.txt")
	f.Fuzz(func(t *testing.T, s string) {
		jobs, err := JobDetails([]byte(s))
		if err != nil {
			return
		}
		for _, j := range jobs {
			for _, a := range j.Allocs {
				if hosts, err := Hostlist(a.Nodes); err == nil && len(hosts) > 0 {
					_, _ = j.GPUIndices(hosts[0])
				}
			}
		}
	})
}

func FuzzSdiag(f *testing.F) {
	seed(f, "*-sdiag.txt")
	f.Fuzz(func(t *testing.T, s string) { _, _ = Sdiag([]byte(s)) })
}

func FuzzHostlist(f *testing.F) {
	for _, s := range []string{"w[1-3,5],gpu-[01-10]", "r[1-2]n[01-02]", "w1", "(null)", "a[0-9]b[0-9]c[0-9]", "x[1-]", "]["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := Hostlist(s)
		if err == nil && len(hosts) > maxHosts {
			t.Errorf("%d hosts", len(hosts))
		}
	})
}

func FuzzGRES(f *testing.F) {
	for _, s := range []string{"gpu:h100:2(IDX:0-1)", "gpu:a100:2(IDX:0,3),gpu:v100:1", "gpu:(null):3(IDX:0-7)",
		"gg:g0(CNT:1)", "gpu(IDX:5)", "gpu:h100:4(S:0-3)", "(null)", "gpu:a100:1(IDX:0),gpu:v100:0(IDX:)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseGRES(s)
		if err != nil {
			return
		}
		for _, g := range list {
			if g.Count < 0 || len(g.Index) > maxIndex+1 {
				t.Errorf("%+v", g)
			}
		}
		_, _, _ = RequestGPUs(s)
		_, _, _ = TRESGPUs(s)
	})
}

// FuzzJobGPUs: a job's GPU count, from whichever of its TRES fields has
// one, times its nodes or tasks, is never negative.
func FuzzJobGPUs(f *testing.F) {
	for _, s := range [][4]string{
		{"cpu=8,mem=32G,node=1,gres/gpu=4,gres/gpu:a100=4", "N/A", "N/A", "N/A"},
		{"cpu=8,gres/gpu:a100=2,gres/gpu:v100=1", "", "", ""},
		{"", "gres:gpu:h100:2", "N/A", "N/A"},
		{"(null)", "N/A", "gres/gpu:2", "N/A"},
		{"N/A", "N/A", "N/A", "gpu:rtx2080"},
		{"", "gres/gpu=2,gres/shard:4", "", ""},
		{"gres/gpu=x", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], 2, 8)
	}
	f.Fuzz(func(t *testing.T, alloc, perNode, perJob, perTask string, nodes, tasks int) {
		if nodes < 0 || tasks < 0 || nodes >= 0xfffffffe || tasks >= 0xfffffffe {
			return // what count gives Jobs
		}
		n, err := JobGPUs(alloc, perNode, perJob, perTask, nodes, tasks)
		if err == nil && n < 0 {
			t.Errorf("JobGPUs(%q, %q, %q, %q, %d, %d) = %d", alloc, perNode, perJob, perTask, nodes, tasks, n)
		}
	})
}

// FuzzRecords reads whole `scontrol -o show` outputs, a record a line.
func FuzzRecords(f *testing.F) {
	seed(f, "*-scontrol-nodes.txt", "NodeName=w1 Arch=x86_64\n\nNodeName=w2", "NodeName=w1 Reason=a b [root@2024-01-01T00:00:00]")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := Records([]byte(s))
		if err != nil {
			return
		}
		for _, rec := range recs {
			for _, fl := range rec {
				if fl.Key == "" || strings.ContainsAny(fl.Key, " =") {
					t.Errorf("key %q", fl.Key)
				}
			}
		}
	})
}
