package parse

import (
	"reflect"
	"testing"
)

func TestParseGRES(t *testing.T) {
	tests := []struct {
		in   string
		want []GRES
	}{
		{"(null)", nil},
		{"N/A", nil},
		{"", nil},
		{"gpu:4", []GRES{{Name: "gpu", Count: 4}}},
		{"gpu:0", []GRES{{Name: "gpu"}}},
		{"gpu:h100:4", []GRES{{Name: "gpu", Type: "h100", Count: 4}}},
		{"gpu:h100:4(S:0-3)", []GRES{{Name: "gpu", Type: "h100", Count: 4}}},
		{"gpu:a100:2,gpu:v100:1", []GRES{{Name: "gpu", Type: "a100", Count: 2}, {Name: "gpu", Type: "v100", Count: 1}}},
		{"gpu:a100:2(IDX:0,3)", []GRES{{Name: "gpu", Type: "a100", Count: 2, Index: []int{0, 3}}}},
		{"gpu:a100:1(IDX:0),gpu:v100:0(IDX:N/A)", []GRES{
			{Name: "gpu", Type: "a100", Count: 1, Index: []int{0}}, {Name: "gpu", Type: "v100"}}},
		{"gpu:a100:1(IDX:0),gpu:v100:0(IDX:)", []GRES{ // 22.05 job detail, a type it got none of
			{Name: "gpu", Type: "a100", Count: 1, Index: []int{0}}, {Name: "gpu", Type: "v100"}}},
		{"gpu:tesla_v100-sxm3-32gb:13(IDX:0-3,5-7,9-11,13-15)", []GRES{{Name: "gpu", Type: "tesla_v100-sxm3-32gb", Count: 13,
			Index: []int{0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15}}}},
		{"gpu:nvidia_a100_1g.5gb:21(S:0-1)", []GRES{{Name: "gpu", Type: "nvidia_a100_1g.5gb", Count: 21}}},
		{"gpu:(null):3(IDX:0-2)", []GRES{{Name: "gpu", Count: 3, Index: []int{0, 1, 2}}}},
		{"gpu(IDX:5)", []GRES{{Name: "gpu", Count: 1, Index: []int{5}}}},
		{"gpu(IDX:0,2-3,5)", []GRES{{Name: "gpu", Count: 4, Index: []int{0, 2, 3, 5}}}},
		{"gg:g0(CNT:1),gpu:1(IDX:3)", []GRES{{Name: "gg", Type: "g0", Count: 1}, {Name: "gpu", Count: 1, Index: []int{3}}}},
		{"gpu:h100:1(IDX:0),gpu:6000pro_maxq:2(IDX:1-2)", []GRES{
			{Name: "gpu", Type: "h100", Count: 1, Index: []int{0}}, {Name: "gpu", Type: "6000pro_maxq", Count: 2, Index: []int{1, 2}}}},
		{"shard:h100:8,gpu:h100:1", []GRES{{Name: "shard", Type: "h100", Count: 8}, {Name: "gpu", Type: "h100", Count: 1}}},
		{"bandwidth:lustre:4G", []GRES{{Name: "bandwidth", Type: "lustre"}}},
		{"mps:4G", []GRES{{Name: "mps"}}},
		{"gpu:rtx2080", []GRES{{Name: "gpu", Type: "rtx2080", Count: 1}}},
		{"gpu:6000pro_maxq", []GRES{{Name: "gpu", Type: "6000pro_maxq", Count: 1}}},
		{"gpu", []GRES{{Name: "gpu", Count: 1}}},
	}
	for _, tt := range tests {
		got, err := ParseGRES(tt.in)
		if err != nil {
			t.Errorf("ParseGRES(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseGRES(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseGRESBad(t *testing.T) {
	for _, in := range []string{
		"gpu:x:y",           // a GPU count that is not one
		"gpu:h100:4G",       // nor this
		"gpu:2(IDX:0",       // unclosed
		"gpu:2(IDX:3-1)",    // backwards
		"gpu:2(IDX:a)",      // not an index
		"gpu:2(IDX:0-9999)", // past maxIndex
		":4",
		"gpu:-1",
		"gpu:4G",
		"gg(CNT:x)",
	} {
		if g, err := ParseGRES(in); err == nil {
			t.Errorf("ParseGRES(%q) = %+v, want an error", in, g)
		}
	}
}

func TestGPUCount(t *testing.T) {
	for in, want := range map[string]int{
		"(null)":                  0,
		"gpu:h100:4":              4,
		"gpu:a100:2,gpu:v100:1":   3,
		"gpu:a100:2(IDX:0,3)":     2,
		"shard:h100:8,gpu:h100:1": 1,
		"gg:g0(CNT:1)":            0,
	} {
		list, err := ParseGRES(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := GPUCount(list); got != want {
			t.Errorf("GPUCount(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestIndexList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"N/A", nil},
		{"", nil},
		{"3", []int{3}},
		{"0-1", []int{0, 1}},
		{"0,3", []int{0, 3}},
		{"0-3,5-7", []int{0, 1, 2, 3, 5, 6, 7}},
	}
	for _, tt := range tests {
		got, err := IndexList(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("IndexList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"a", "1-", "-1", "3-1", "0,,1", "99999"} {
		if got, err := IndexList(in); err == nil {
			t.Errorf("IndexList(%q) = %v, want an error", in, got)
		}
	}
}

func TestRequestGPUs(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		ok   bool
		fail bool
	}{
		{in: "N/A"},
		{in: ""},
		{in: "gres:gpu:h100:2", n: 2, ok: true},   // 22.05
		{in: "gres:gpu:1", n: 1, ok: true},        // 22.05
		{in: "gres/gpu:4", n: 4, ok: true},        // 23.02+
		{in: "gres/gpu:a100:4", n: 4, ok: true},   // 23.02+
		{in: "gres/gpu=2", n: 2, ok: true},        // defensive
		{in: "gpu:rtx2080,gg:g0", n: 1, ok: true}, // a count of one left out
		{in: "gres:gpu:1,gres:shard:2", n: 1, ok: true},
		{in: "gres/gpu:a100:1,gres/gpu:v100:2", n: 3, ok: true},
		{in: "gres:shard:2"},
		{in: "gres/gpu:x:y", fail: true},
	}
	for _, tt := range tests {
		n, ok, err := RequestGPUs(tt.in)
		if (err != nil) != tt.fail || n != tt.n || ok != tt.ok {
			t.Errorf("RequestGPUs(%q) = %d, %v, %v; want %d, %v, fail %v", tt.in, n, ok, err, tt.n, tt.ok, tt.fail)
		}
	}
}

func TestTRESGPUs(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		ok   bool
		fail bool
	}{
		{in: "cpu=1,mem=100M,node=1,billing=1"},
		{in: ""},
		{in: "cpu=8,mem=32G,node=1,gres/gpu=4", n: 4, ok: true},
		{in: "cpu=8,mem=32G,node=1,billing=8,gres/gpu=4,gres/gpu:model_a=4", n: 4, ok: true},
		{in: "cpu=8,mem=32G,node=1,gres/gpu:a100=2", n: 2, ok: true},
		{in: "cpu=8,gres/gpu:a100=2,gres/gpu:v100=1", n: 3, ok: true},
		{in: "cpu=8,gres/gpumem=40G"},
		{in: "cpu=8,gres/gpu=x", fail: true},
	}
	for _, tt := range tests {
		n, ok, err := TRESGPUs(tt.in)
		if (err != nil) != tt.fail || n != tt.n || ok != tt.ok {
			t.Errorf("TRESGPUs(%q) = %d, %v, %v; want %d, %v, fail %v", tt.in, n, ok, err, tt.n, tt.ok, tt.fail)
		}
	}
}
