package conf

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CgroupLayout is how the cgroup file systems are mounted on a node.
type CgroupLayout struct {
	// Version is "v1" (legacy or hybrid: v1 controllers mounted), "v2"
	// (unified only) or "" when nothing usable is mounted.
	Version string
	// Problem says why slurmd cannot start here; empty when it can.
	Problem string
}

// Root is the file system the Detect functions read: "/" in production, a
// directory of captured files in tests.
type Root string

func (r Root) path(p string) string { return filepath.Join(string(r), p) }

// DetectCgroups reads /proc/self/mountinfo and /proc/self/cgroup.
func (r Root) DetectCgroups() CgroupLayout {
	mountinfo, err := os.ReadFile(r.path("/proc/self/mountinfo"))
	if err != nil {
		return CgroupLayout{Problem: fmt.Sprintf("cannot read mountinfo: %v", err)}
	}
	self, _ := os.ReadFile(r.path("/proc/self/cgroup"))
	return cgroupLayout(string(mountinfo), string(self))
}

// cgroupLayout classifies a node from its mountinfo and /proc/self/cgroup.
func cgroupLayout(mountinfo, selfCgroup string) CgroupLayout {
	var v1, v2Root, v2Elsewhere bool
	for line := range strings.Lines(mountinfo) {
		fields := strings.Fields(line)
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(fields) {
			continue
		}
		point, fstype := fields[4], fields[sep+1]
		under := point == "/sys/fs/cgroup" || strings.HasPrefix(point, "/sys/fs/cgroup/")
		switch {
		case fstype == "cgroup" && under:
			v1 = true
		case fstype == "cgroup2" && point == "/sys/fs/cgroup":
			v2Root = true
		case fstype == "cgroup2":
			v2Elsewhere = true
		}
	}
	// A process in v1 hierarchies has lines "N:controller:/path" with N > 0.
	inV1 := false
	for line := range strings.Lines(selfCgroup) {
		if id, _, ok := strings.Cut(line, ":"); ok && id != "0" && strings.TrimSpace(id) != "" {
			inV1 = true
		}
	}
	switch {
	case v2Root && inV1 && !v1:
		return CgroupLayout{Version: "v2", Problem: "cgroup2 is mounted on /sys/fs/cgroup but this process is in cgroup v1 hierarchies (a v1 host with v2 mounted over it); Slurm refuses that as hybrid mode"}
	case v1:
		return CgroupLayout{Version: "v1"}
	case v2Root:
		return CgroupLayout{Version: "v2"}
	case v2Elsewhere:
		return CgroupLayout{Problem: "cgroup2 is mounted, but not on /sys/fs/cgroup, where Slurm looks"}
	}
	return CgroupLayout{Problem: "no cgroup file system is mounted on /sys/fs/cgroup; slurmd needs one even without cgroup control (mount cgroup2 there, or run the container with the host's cgroups)"}
}

// HasSystemd reports whether systemd runs this machine.
func (r Root) HasSystemd() bool {
	st, err := os.Stat(r.path("/run/systemd/system"))
	return err == nil && st.IsDir()
}

// MemoryMiB is the memory this node can give jobs: the smaller of the
// machine's memory and the container's cgroup limit, with 5% kept back for
// the system, so slurmd never finds less than the node registered with.
func (r Root) MemoryMiB() (int64, error) {
	total, err := r.memTotal()
	if err != nil {
		return 0, err
	}
	if limit, ok := r.cgroupMemoryLimit(); ok && limit < total {
		total = limit
	}
	return int64(float64(total) * 0.95 / (1 << 20)), nil
}

func (r Root) memTotal() (uint64, error) {
	f, err := os.Open(r.path("/proc/meminfo"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/meminfo: MemTotal %q", v)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/meminfo: no MemTotal")
}

// cgroupMemoryLimit reads the container's memory limit (v2, then v1).
func (r Root) cgroupMemoryLimit() (uint64, bool) {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(r.path(p))
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, false
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v >= 1<<60 { // v1 says "no limit" with a huge number
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// CPUs is the number of CPUs the container may use when a CPU quota holds
// it below online, the CPUs slurmd would count; 0 when there is no such
// quota and slurmd's own count is right.
func (r Root) CPUs(online int) int {
	quota, ok := r.cpuQuota()
	if !ok {
		return 0
	}
	n := int(math.Ceil(quota))
	if n < 1 {
		n = 1
	}
	if n >= online {
		return 0
	}
	return n
}

// cpuQuota reads cpu.max (v2) or cfs_quota_us/cfs_period_us (v1) as CPUs.
func (r Root) cpuQuota() (float64, bool) {
	if b, err := os.ReadFile(r.path("/sys/fs/cgroup/cpu.max")); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 && f[0] != "max" {
			q, err1 := strconv.ParseFloat(f[0], 64)
			p, err2 := strconv.ParseFloat(f[1], 64)
			if err1 == nil && err2 == nil && p > 0 && q > 0 {
				return q / p, true
			}
		}
		return 0, false
	}
	for _, dir := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"} {
		qb, err1 := os.ReadFile(r.path(dir + "/cpu.cfs_quota_us"))
		pb, err2 := os.ReadFile(r.path(dir + "/cpu.cfs_period_us"))
		if err1 != nil || err2 != nil {
			continue
		}
		q, err1 := strconv.ParseFloat(strings.TrimSpace(string(qb)), 64)
		p, err2 := strconv.ParseFloat(strings.TrimSpace(string(pb)), 64)
		if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
			return 0, false
		}
		return q / p, true
	}
	return 0, false
}
