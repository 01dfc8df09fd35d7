package conf

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCgroupLayout(t *testing.T) {
	tests := []struct {
		name, mountinfo, self string
		version, problem      string
	}{
		{"hybrid v1 host (this machine)", readTestdata(t, "mountinfo-hybrid.txt"), readTestdata(t, "cgroup-hybrid.txt"), "v1", ""},
		{"pure v2 container", readTestdata(t, "mountinfo-v2.txt"), readTestdata(t, "cgroup-v2.txt"), "v2", ""},
		{"nothing mounted", readTestdata(t, "mountinfo-none.txt"), "0::/\n", "", "no cgroup file system"},
		{"v2 mounted over a v1 host", readTestdata(t, "mountinfo-v2.txt"), readTestdata(t, "cgroup-hybrid.txt"), "v2", "hybrid"},
		{"v2 elsewhere", "30 1 0:27 / /mnt/cg rw - cgroup2 cgroup2 rw\n", "0::/\n", "", "not on /sys/fs/cgroup"},
		{"garbage", "not mountinfo at all\n\n-\n", "", "", "no cgroup file system"},
	}
	for _, tt := range tests {
		got := cgroupLayout(tt.mountinfo, tt.self)
		if got.Version != tt.version || !strings.Contains(got.Problem, tt.problem) || (tt.problem == "") != (got.Problem == "") {
			t.Errorf("%s: got %+v, want version %q problem ~%q", tt.name, got, tt.version, tt.problem)
		}
	}
}

// fakeRoot builds a file tree standing for / in the Root methods.
func fakeRoot(t *testing.T, files map[string]string) Root {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Root(dir)
}

func TestMemoryTakesTheSmallerOfMachineAndCgroup(t *testing.T) {
	meminfo := "MemTotal:       263840708 kB\nMemFree:        1 kB\n"
	tests := []struct {
		files map[string]string
		want  int64
	}{
		{map[string]string{"proc/meminfo": meminfo}, 244774},
		{map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory.max": "107374182400\n"}, 97280},
		{map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory.max": "max\n"}, 244774},
		{map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 244774},
		{map[string]string{"proc/meminfo": meminfo, "sys/fs/cgroup/memory/memory.limit_in_bytes": "2147483648\n"}, 1945},
	}
	for i, tt := range tests {
		got, err := fakeRoot(t, tt.files).MemoryMiB()
		if err != nil || got != tt.want {
			t.Errorf("case %d: MemoryMiB = %d, %v; want %d", i, got, err, tt.want)
		}
	}
	if _, err := fakeRoot(t, map[string]string{"proc/meminfo": "garbage\n"}).MemoryMiB(); err == nil {
		t.Error("a meminfo without MemTotal was accepted")
	}
}

func TestCPUsFollowTheQuota(t *testing.T) {
	tests := []struct {
		files  map[string]string
		online int
		want   int
	}{
		{map[string]string{}, 64, 0},
		{map[string]string{"sys/fs/cgroup/cpu.max": "max 100000\n"}, 64, 0},
		{map[string]string{"sys/fs/cgroup/cpu.max": "1600000 100000\n"}, 64, 16},
		{map[string]string{"sys/fs/cgroup/cpu.max": "150000 100000\n"}, 64, 2},
		{map[string]string{"sys/fs/cgroup/cpu.max": "6400000 100000\n"}, 64, 0},
		{map[string]string{"sys/fs/cgroup/cpu/cpu.cfs_quota_us": "800000\n", "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}, 32, 8},
		{map[string]string{"sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n", "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}, 32, 0},
	}
	for i, tt := range tests {
		if got := fakeRoot(t, tt.files).CPUs(tt.online); got != tt.want {
			t.Errorf("case %d: CPUs = %d, want %d", i, got, tt.want)
		}
	}
}

func TestSystemdDetection(t *testing.T) {
	if fakeRoot(t, nil).HasSystemd() {
		t.Error("systemd found in an empty root")
	}
	r := fakeRoot(t, map[string]string{"run/systemd/system/x": ""})
	if !r.HasSystemd() {
		t.Error("systemd not found")
	}
}

func TestLinkGPUs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gres")
	// /dev/null stands in for GPU device files: a character device.
	if err := LinkGPUs(dir, []string{"/dev/null", "/dev/zero"}); err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]string{0: "/dev/null", 1: "/dev/zero", 2: "/dev/null", GresSlots - 1: "/dev/null"} {
		if got, err := os.Readlink(filepath.Join(dir, "gpu"+strconv.Itoa(i))); err != nil || got != want {
			t.Errorf("gpu%d -> %q, %v; want %q", i, got, err, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "gpu"+strconv.Itoa(GresSlots))); err == nil {
		t.Errorf("more than %d links", GresSlots)
	}
	// Again, with fewer GPUs: the links are rewritten in place.
	if err := LinkGPUs(dir, []string{"/dev/zero"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(filepath.Join(dir, "gpu1")); got != "/dev/null" {
		t.Errorf("gpu1 -> %q after the node lost a GPU", got)
	}
	plain := filepath.Join(t.TempDir(), "nvidia0")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := LinkGPUs(dir, []string{plain}); err == nil || !strings.Contains(err.Error(), "not a device") {
		t.Errorf("a plain file was accepted as a GPU: %v", err)
	}
	if err := LinkGPUs(dir, []string{"/nonexistent/nvidia0"}); err == nil {
		t.Error("a missing device file was accepted")
	}
}
