package parse

import (
	"reflect"
	"strings"
	"testing"
)

func TestHostlist(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"(null)", nil},
		{"w1", []string{"w1"}},
		{"w[1-3,5]", []string{"w1", "w2", "w3", "w5"}},
		{"w[2,1]", []string{"w2", "w1"}}, // as JSON shows dynamic nodes: unsorted
		{"w[1-3,5],gpu-[01-03]", []string{"w1", "w2", "w3", "w5", "gpu-01", "gpu-02", "gpu-03"}},
		{"gpu-[08-11]", []string{"gpu-08", "gpu-09", "gpu-10", "gpu-11"}},
		{"n[009-011]", []string{"n009", "n010", "n011"}},
		{"n[8-10]", []string{"n8", "n9", "n10"}},
		{"dgx-[40,48]", []string{"dgx-40", "dgx-48"}},
		{"a3mega-a3meganodesa-[0-1],a3mega-a3meganodesb-[0-1]", []string{
			"a3mega-a3meganodesa-0", "a3mega-a3meganodesa-1", "a3mega-a3meganodesb-0", "a3mega-a3meganodesb-1"}},
		{"r[1-2]n[1-2]", []string{"r1n1", "r1n2", "r2n1", "r2n2"}},
		{"r[1-2]-gpu", []string{"r1-gpu", "r2-gpu"}},
		{"node-005", []string{"node-005"}},
	}
	for _, tt := range tests {
		got, err := Hostlist(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Hostlist(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestHostlistBad(t *testing.T) {
	for _, in := range []string{
		"w[1-3", "w1]", "w[3-1]", "w[a]", "w[1-b]", "w[]", "w1,,w2", "w[0-99999999]",
		"a[0-999]b[0-999]", // a million hosts
	} {
		if got, err := Hostlist(in); err == nil {
			t.Errorf("Hostlist(%q) = %d hosts, want an error", in, len(got))
		}
	}
}

func TestInHostlist(t *testing.T) {
	for _, tt := range []struct {
		list, host string
		want       bool
	}{
		{"w[2,4]", "w4", true},
		{"w[2,4]", "w3", false},
		{"gpu-[01-10]", "gpu-07", true},
		{"gpu-[01-10]", "gpu-7", false},
		{"w1", "w1", true},
		{"", "w1", false},
	} {
		if got, err := InHostlist(tt.list, tt.host); err != nil || got != tt.want {
			t.Errorf("InHostlist(%q, %q) = %v, %v", tt.list, tt.host, got, err)
		}
	}
	if _, err := InHostlist("w[1-", "w1"); err == nil || !strings.Contains(err.Error(), "w[1-") {
		t.Errorf("InHostlist of a bad list: %v", err)
	}
}
