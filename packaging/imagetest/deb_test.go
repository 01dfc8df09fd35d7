package imagetest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// The two builds the .deb test installs, one over the other: Debian
// versions, and the versions stamped into their binaries (the first is the
// images' binaryVersion, so the go cache serves it).
const (
	debVersion     = "1.0.0"
	debUpgrade     = "1.0.1"
	upgradeVersion = binaryVersion + "-upgrade"
)

// Units that boot with the base (Debian enables them when it installs
// Slurm), masked in the box: they have nothing to do with the packages.
var slurmUnits = []string{"munge.service", "slurmd.service", "slurmctld.service"}

// buildDebs builds both programs stamped with version and packages them as
// Debian version deb with packaging/package.sh, into dir. It returns the
// paths of the gpuwd and gpuwd-agent packages.
func buildDebs(t *testing.T, img *images, dir, deb, version string) []string {
	t.Helper()
	bin := filepath.Join(dir, "bin-"+deb)
	if err := buildBinaries(img.repo, bin, version); err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(dir, "dist")
	cmd := exec.Command(filepath.Join(img.repo, "packaging", "package.sh"))
	cmd.Env = append(os.Environ(), "BIN_DIR="+bin, "DIST_DIR="+dist, "VERSION="+deb)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("package.sh (VERSION=%s): %v\n%s", deb, err, out)
	}
	debs := []string{filepath.Join(dist, "gpuwd_"+deb+"_amd64.deb"), filepath.Join(dist, "gpuwd-agent_"+deb+"_amd64.deb")}
	for _, p := range debs {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("package.sh (VERSION=%s) made no %s:\n%s", deb, filepath.Base(p), out)
		}
	}
	return debs
}

// debBox is a container of the base image booted as a machine: systemd is
// PID 1 and runs the packages' units, as on a Debian server.
type debBox struct {
	t      *testing.T
	docker *dockerCLI
	name   string
}

// systemdArgs are the docker run arguments under which systemd boots in a
// container without --privileged, which would let the box's systemd apply
// its sysctl.d to this machine's kernel. systemd needs CAP_SYS_ADMIN (for
// its mounts, and the units' sandboxes: ProtectSystem=, PrivateTmp=, …),
// tmpfs on /run, and a cgroup tree it may write. The units also need
// CAP_SYS_PTRACE, which a machine's PID 1 always has: with PrivateUsers=
// and ProtectProc=invisible (gpuwd.service) systemd sets up the unit's user
// namespace through a /proc that hides the unit's process from a helper
// lacking it, and the unit fails with 217/USER "Failed to set up user
// namespacing: No such file or directory" (systemd#29656).
//
// On cgroup v1 (this project's test machines: a tmpfs on /sys/fs/cgroup),
// Docker mounts only the container's own cgroups, read-only; mounting the
// host's tree gives systemd its hierarchies (named systemd included), in
// which it works below the container's own cgroup (/docker/<id>). On the
// unified hierarchy (cgroup v2) the container gets a cgroup namespace of its
// own and remounts its cgroup2 read-write before systemd starts: not tried
// on the project's machines.
func systemdArgs() (args []string, entrypoint []string) {
	args = []string{"--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE",
		"--security-opt", "apparmor=unconfined",
		"--tmpfs", "/run", "--tmpfs", "/run/lock",
		"-e", "container=docker", "--stop-signal", "SIGRTMIN+3"}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return append(args, "--cgroupns", "private", "--entrypoint", "/bin/sh"),
			[]string{"-c", `mount -o remount,rw /sys/fs/cgroup && exec /sbin/init "$@"`, "init"}
	}
	return append(args, "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "--entrypoint", "/sbin/init"), nil
}

// bootDebBox starts the box with no network at all (nothing it does may
// need one), and waits until systemd has booted it. Cleanup removes it,
// first logging the units' journal when the test failed.
func bootDebBox(t *testing.T, img *images) *debBox {
	t.Helper()
	b := &debBox{t: t, docker: img.docker, name: podName("deb")}
	args, entry := systemdArgs()
	run := append([]string{"run", "-d", "--name", b.name, "--hostname", b.name, "--network", "none"}, labelArgs()...)
	run = append(append(append(run, args...), img.base), entry...)
	// systemd takes the kernel command line from its arguments in a container.
	for _, u := range slurmUnits {
		run = append(run, "systemd.mask="+u)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := b.try(`systemctl --no-pager --failed; journalctl --no-pager -n 80 -u gpuwd -u gpuwd-agent; tail -n 30 /var/log/dpkg.log`)
			t.Logf("--- the box's failed units, the units' journal, dpkg.log ---\n%s", out)
		}
		_, _ = img.docker.try("rm", "-f", "-v", b.name)
	})
	if _, err := img.docker.try(run...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "systemd to boot the box", func() (bool, string) {
		out, err := img.docker.exec(b.name, time.Minute, "systemctl", "is-system-running", "--wait")
		return out == "running" || out == "degraded", out + errString(err)
	})
	if out := b.sh(`systemctl is-system-running || systemctl --no-pager --failed`); out != "running" {
		t.Logf("the box booted degraded (not what the packages install):\n%s", out)
	}
	return b
}

// try runs a shell script in the box as root: its standard output, and an
// error with its standard error.
func (b *debBox) try(script string) (string, error) {
	return b.docker.exec(b.name, 2*time.Minute, "sh", "-c", script)
}

// sh runs a shell script in the box; the test ends when it fails.
func (b *debBox) sh(script string) string {
	b.t.Helper()
	out, err := b.try(script)
	if err != nil {
		b.t.Fatalf("in the box: %s\n%v\n%s", script, err, out)
	}
	return out
}

// unit is what systemd says of a unit.
func (b *debBox) unit(name string) map[string]string {
	b.t.Helper()
	props := map[string]string{}
	out := b.sh("systemctl show " + name + " -p LoadState -p ActiveState -p UnitFileState -p MainPID")
	for line := range strings.SplitSeq(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			props[k] = v
		}
	}
	return props
}

// running waits until the unit is active and its main process, run by user,
// serves: ready runs in the box and must succeed. It returns the main PID.
func (b *debBox) running(unit, user, ready string) string {
	b.t.Helper()
	var pid string
	waitFor(b.t, time.Minute, unit+" to be active and serve", func() (bool, string) {
		u := b.unit(unit)
		pid = u["MainPID"]
		if u["ActiveState"] != "active" || pid == "" || pid == "0" {
			return false, fmt.Sprint(u)
		}
		out, err := b.try(ready)
		return err == nil, fmt.Sprint(u) + " " + out + errString(err)
	})
	if owner := b.sh("stat -c %U /proc/" + pid); owner != user {
		b.t.Errorf("%s runs as %q, want %q", unit, owner, user)
	}
	return pid
}

// status is a package's dpkg status and version ("ii 1.0.0"), or "" when
// dpkg does not know it.
func (b *debBox) status(pkg string) string {
	out, err := b.try("dpkg-query -W -f='${db:Status-Abbrev}${Version}' " + pkg)
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(out), " ")
}

// registeredAgent is the box's agent as gpuwd's /api/v1/targets shows it.
func (b *debBox) registeredAgent() (*target, error) {
	out, err := b.try("curl -fsS http://127.0.0.1:8080/api/v1/targets")
	if err != nil {
		return nil, err
	}
	var resp struct {
		Data struct {
			ActiveTargets []target `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		return nil, err
	}
	for _, tg := range resp.Data.ActiveTargets {
		if tg.DiscoveredLabels["__meta_gpuwd_node"] == b.name {
			return &tg, nil
		}
	}
	return nil, nil
}

// waitRegistered waits until the agent of version is registered with gpuwd
// and scraped by it.
func (b *debBox) waitRegistered(version string) {
	b.t.Helper()
	waitFor(b.t, 90*time.Second, "the agent "+version+" to be registered with gpuwd and scraped (health up)", func() (bool, string) {
		tg, err := b.registeredAgent()
		if err != nil || tg == nil {
			return false, "not registered" + errString(err)
		}
		v := tg.DiscoveredLabels["__meta_gpuwd_version"]
		return v == version && tg.Health == "up", fmt.Sprintf("version %q, health %q %s", v, tg.Health, tg.LastError)
	})
}

// gpuSeriesAt is how many GPUs gpuwd's history has at unix time at
// (seconds, a decimal), by PromQL.
func (b *debBox) gpuSeriesAt(at string) string {
	b.t.Helper()
	out := b.sh("curl -fsS 'http://127.0.0.1:8080/api/v1/query?query=count(DCGM_FI_DEV_GPU_UTIL)&time=" + at + "'")
	var resp struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		b.t.Fatalf("gpuwd's /api/v1/query: %v: %s", err, out)
	}
	if len(resp.Data.Result) != 1 || len(resp.Data.Result[0].Value) != 2 {
		return out
	}
	return fmt.Sprint(resp.Data.Result[0].Value[1])
}

// shadowBackups are the copies of the user and group files that useradd
// and userdel make before they change them: after a purge they hold the
// users it removed.
var shadowBackups = map[string]bool{"/etc/passwd-": true, "/etc/group-": true, "/etc/shadow-": true, "/etc/gshadow-": true}

// snapshot lists the box's files outside what a running system changes on
// its own (logs, caches, dpkg's database, /run, /tmp): path -> type, mode,
// owner, size (not of directories, which ext4 never shrinks, nor of
// shadowBackups) and link target; with the content's checksum for /etc
// (shadowBackups excepted).
func (b *debBox) snapshot() map[string]string {
	b.t.Helper()
	out := b.sh(`find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp ` +
		`-o -path /var/log -o -path /var/cache -o -path /var/lib/dpkg \) -prune ` +
		`-o -printf '%y\t%M %u:%g\t%s\t%l\t%p\n'; ` +
		`find /etc -xdev -type f -exec md5sum {} +`)
	snap := map[string]string{}
	for line := range strings.SplitSeq(out, "\n") {
		if f := strings.SplitN(line, "\t", 5); len(f) == 5 {
			if f[0] == "d" || shadowBackups[f[4]] {
				f[2] = ""
			}
			snap[f[4]] = strings.TrimSpace(strings.Join(f[:4], " "))
		} else if sum, path, ok := strings.Cut(line, "  "); ok && !shadowBackups[path] {
			snap[path] += " md5:" + sum
		}
	}
	if len(snap) < 1000 {
		b.t.Fatalf("the box's file list has %d entries: find failed?\n%s", len(snap), tail(out, 20))
	}
	return snap
}

// systemUID reports whether uid is a system user's (Debian: below 1000).
func systemUID(uid string) bool {
	n, err := strconv.Atoi(uid)
	return err == nil && n > 0 && n < 1000
}

// treeDiff says how after differs from before: what was left behind,
// removed, or changed.
func treeDiff(before, after map[string]string) []string {
	var diff []string
	for p, a := range after {
		if b, ok := before[p]; !ok {
			diff = append(diff, "left behind: "+p+" ("+a+")")
		} else if a != b {
			diff = append(diff, "changed: "+p+": "+a+", was "+b)
		}
	}
	for p, b := range before {
		if _, ok := after[p]; !ok {
			diff = append(diff, "removed: "+p+" ("+b+")")
		}
	}
	slices.Sort(diff)
	return diff
}

// Both .debs as an administrator uses them on a Debian machine: dpkg -i on a
// box booted by systemd, with no network; configured, their units start as
// their own users, the agent (simulated GPUs) serves GPU metrics and
// registers with the local gpuwd with the token the package generated; an
// upgrade restarts both on the new binaries and keeps configuration, token
// and history; dpkg -r stops them and keeps the configuration; dpkg -P
// leaves the machine's files as they were before the install. Installed on a
// machine configured first, the agent starts at once.
func TestDebInstallStartUpgradeRemovePurge(t *testing.T) {
	t.Parallel()
	img := need(t)
	if runtime.GOARCH != "amd64" {
		t.Skipf("the packages are amd64 (packaging/nfpm); this is %s", runtime.GOARCH)
	}
	testenv.LookPath(t, "objdump") // package.sh reads the agent's glibc symbols
	start := time.Now()
	phase := func(what string) {
		t.Helper()
		t.Logf("%5.1fs %s", time.Since(start).Seconds(), what)
	}
	dir := t.TempDir()
	v1 := buildDebs(t, img, dir, debVersion, binaryVersion)
	v2 := buildDebs(t, img, dir, debUpgrade, upgradeVersion)

	phase("built the packages " + debVersion + " and " + debUpgrade)
	b := bootDebBox(t, img)
	phase("systemd booted the box " + b.name)
	if _, err := img.docker.try("cp", filepath.Join(dir, "dist"), b.name+":/tmp/debs"); err != nil {
		t.Fatal(err)
	}
	// The base keeps the policy-rc.d of Docker's Debian images, by which no
	// package starts a service (deb-systemd-invoke asks it); a machine has
	// none.
	b.sh("rm -f /usr/sbin/policy-rc.d")
	before := b.snapshot()
	debs := func(paths []string) string {
		var in []string
		for _, p := range paths {
			in = append(in, "/tmp/debs/"+filepath.Base(p))
		}
		return strings.Join(in, " ")
	}
	pkgs := []string{"gpuwd", "gpuwd-agent"}
	const agentMetrics = "curl -fsS http://127.0.0.1:9400/metrics"
	// Each package's unit, run as the user of its name, and what says it
	// serves: gpuwd answers, the agent has GPU series.
	units := []struct{ name, ready string }{
		{"gpuwd", "curl -fsS http://127.0.0.1:8080/-/ready"},
		{"gpuwd-agent", agentMetrics + " | grep -q '^DCGM_FI_DEV_GPU_UTIL{'"},
	}

	phase("dpkg -i " + debVersion)
	// Install: dependencies come from the base; users and the token are made;
	// both units are enabled, and not started while nothing is configured.
	out := b.sh("dpkg -i " + debs(v1) + " </dev/null 2>&1")
	for _, p := range pkgs {
		if s := b.status(p); s != "ii "+debVersion {
			t.Fatalf("%s after dpkg -i: status %q, want \"ii %s\"\n%s", p, s, debVersion, out)
		}
		if want := p + " is enabled at boot but not started"; !strings.Contains(out, want) {
			t.Errorf("dpkg -i did not say %q:\n%s", want, out)
		}
	}
	for u, home := range map[string]string{"gpuwd": "/var/lib/gpuwd", "gpuwd-agent": "/nonexistent"} {
		f := strings.Split(b.sh("getent passwd "+u), ":")
		if len(f) != 7 || !systemUID(f[2]) || f[5] != home || f[6] != "/usr/sbin/nologin" {
			t.Errorf("user %s: %q, want a system user (uid < 1000) with home %s and shell /usr/sbin/nologin", u, f, home)
		}
		if g := b.sh("id -gn " + u); g != u {
			t.Errorf("user %s: primary group %q, want its own", u, g)
		}
	}
	if st := b.sh("stat -c '%a %U:%G' /etc/gpuwd/token"); st != "640 root:gpuwd" {
		t.Errorf("/etc/gpuwd/token: %s, want 640 root:gpuwd (gpuwd reads it, the world does not)", st)
	}
	token := b.sh("cat /etc/gpuwd/token")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(token) {
		t.Errorf("/etc/gpuwd/token is not 32 random bytes in hex: %d characters", len(token))
	}
	for _, u := range units {
		if s := b.unit(u.name); s["UnitFileState"] != "enabled" || s["ActiveState"] != "inactive" {
			t.Errorf("%s after install: %v, want enabled and inactive", u.name, s)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	phase("systemctl start")
	// Start, configured as /etc/default says: gpuwd as it comes, scraping
	// every 2s (an edited conffile, which the upgrade must keep); the agent
	// with simulated GPUs (no NVML here), registering with the local gpuwd
	// with its token.
	b.sh(`sed -i 's/^  scrape_interval: 15s$/  scrape_interval: 2s/; s/^  scrape_timeout: 10s$/  scrape_timeout: 2s/' /etc/gpuwd/gpuwd.yml && ` +
		`grep -q '^  scrape_interval: 2s$' /etc/gpuwd/gpuwd.yml && grep -q '^  scrape_timeout: 2s$' /etc/gpuwd/gpuwd.yml && ` +
		`printf '\n# imagetest\nGPUWD_LISTEN=:8080\n' >>/etc/default/gpuwd && ` +
		`printf '\n# imagetest\nGPUWD_SIMULATE=h100x2\nGPUWD_AGGREGATOR_URL=http://127.0.0.1:8080\nGPUWD_TOKEN=%s\n' "$(cat /etc/gpuwd/token)" >>/etc/default/gpuwd-agent && ` +
		`systemctl start gpuwd gpuwd-agent`)
	pids := map[string]string{}
	for _, u := range units {
		pids[u.name] = b.running(u.name, u.name, u.ready)
	}
	if m := b.sh(agentMetrics + " | grep '^gpuwd_build_info'"); !strings.Contains(m, `version="`+binaryVersion+`"`) {
		t.Errorf("the agent's build_info is not %s's: %s", binaryVersion, m)
	}
	b.waitRegistered(binaryVersion)
	// gpuwd has the agent's samples of this moment, which the upgrade keeps.
	scraped := b.sh("date +%s.%N")
	if n := b.gpuSeriesAt(scraped); n != "2" {
		t.Errorf("gpuwd's history has %q GPU series once it scraped the agent, want 2", n)
	}
	// The token is the one gpuwd checks: its agent list opens with it alone.
	agents := `curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat /etc/gpuwd/token)" http://127.0.0.1:8080/api/v1/agents`
	if code := b.sh(agents); code != "200" {
		t.Errorf("gpuwd's /api/v1/agents with /etc/gpuwd/token: HTTP %s, want 200", code)
	}
	if code := b.sh(strings.Replace(agents, "$(cat /etc/gpuwd/token)", "not-the-token", 1)); code != "401" {
		t.Errorf("gpuwd's /api/v1/agents with another token: HTTP %s, want 401", code)
	}
	if t.Failed() {
		t.FailNow()
	}

	phase("dpkg -i " + debUpgrade + " (upgrade)")
	// Upgrade: both are restarted on the new binaries; configuration (edited
	// conffiles), token and state are kept, with no conffile prompt.
	kept := "cat /etc/gpuwd/token /etc/default/gpuwd /etc/default/gpuwd-agent /etc/gpuwd/gpuwd.yml /var/lib/gpuwd/admin-token | md5sum"
	keptBefore := b.sh(kept)
	out = b.sh("dpkg -i " + debs(v2) + " </dev/null 2>&1")
	for _, p := range pkgs {
		if s := b.status(p); s != "ii "+debUpgrade {
			t.Fatalf("%s after the upgrade: status %q, want \"ii %s\"\n%s", p, s, debUpgrade, out)
		}
	}
	for _, u := range units {
		pid := b.running(u.name, u.name, u.ready)
		if pid == pids[u.name] {
			t.Errorf("%s was not restarted by the upgrade: PID %s", u.name, pid)
		}
		if exe := b.sh("readlink /proc/" + pid + "/exe"); exe != "/usr/bin/"+u.name {
			t.Errorf("%s runs %q, want the upgrade's /usr/bin/%s", u.name, exe, u.name)
		}
	}
	if v := b.sh("gpuwd --version"); v != "gpuwd "+upgradeVersion+" ("+binaryVersion+")" {
		t.Errorf("gpuwd --version after the upgrade: %q", v)
	}
	if bi := b.sh("curl -fsS http://127.0.0.1:8080/api/v1/status/buildinfo"); !strings.Contains(bi, `"gpuwdVersion":"`+upgradeVersion+`"`) {
		t.Errorf("gpuwd does not run the upgrade: %s", bi)
	}
	if m := b.sh(agentMetrics + " | grep '^gpuwd_build_info'"); !strings.Contains(m, `version="`+upgradeVersion+`"`) {
		t.Errorf("the agent does not run the upgrade: %s", m)
	}
	b.waitRegistered(upgradeVersion)
	if n := b.gpuSeriesAt(scraped); n != "2" {
		t.Errorf("after the upgrade gpuwd's history has %q GPU series of before it, want 2", n)
	}
	if b.sh(kept) != keptBefore {
		t.Error("the upgrade changed the token, the /etc/default files, gpuwd.yml or gpuwd's admin token")
	}
	if left := b.sh("find /etc -name '*.dpkg-*' -o -name '*.ucf-*'"); left != "" {
		t.Errorf("the upgrade left conffile copies:\n%s", left)
	}
	if t.Failed() {
		t.FailNow()
	}

	phase("dpkg -r")
	// Remove: the services are stopped and their units gone; configuration,
	// token, history and users stay.
	out = b.sh("dpkg -r gpuwd-agent gpuwd </dev/null 2>&1")
	for _, p := range pkgs {
		if s := b.status(p); s != "rc "+debUpgrade {
			t.Errorf("%s after dpkg -r: status %q, want \"rc %s\"\n%s", p, s, debUpgrade, out)
		}
	}
	if ps := b.sh("pgrep -a -u gpuwd,gpuwd-agent || true"); ps != "" {
		t.Errorf("processes left after dpkg -r:\n%s", ps)
	}
	for _, u := range units {
		if s := b.unit(u.name); s["LoadState"] != "not-found" || s["ActiveState"] != "inactive" {
			t.Errorf("%s after dpkg -r: %v, want not-found and inactive", u.name, s)
		}
	}
	if left := b.sh("ls -d /usr/bin/gpuwd* /lib/systemd/system/gpuwd* /usr/share/gpuwd* 2>/dev/null || true"); left != "" {
		t.Errorf("dpkg -r left the packages' files:\n%s", left)
	}
	b.sh("test -s /etc/gpuwd/token && test -f /etc/gpuwd/gpuwd.yml && test -f /etc/gpuwd/alerting.yml && " +
		"grep -q GPUWD_SIMULATE /etc/default/gpuwd-agent && grep -q GPUWD_LISTEN /etc/default/gpuwd && " +
		"test -f /var/lib/gpuwd/gpuwd.db && getent passwd gpuwd gpuwd-agent >/dev/null")

	phase("dpkg -P")
	// Purge: configuration, token, state and users go; the machine's files
	// are as before the install.
	out = b.sh("dpkg -P gpuwd-agent gpuwd </dev/null 2>&1")
	for _, p := range pkgs {
		if s := b.status(p); s != "" {
			t.Errorf("%s after dpkg -P: status %q, want none\n%s", p, s, out)
		}
	}
	if left := b.sh("for n in gpuwd gpuwd-agent; do getent passwd $n; getent group $n; done; ls -d /etc/gpuwd /etc/default/gpuwd* /var/lib/gpuwd 2>/dev/null; true"); left != "" {
		t.Errorf("dpkg -P left users, groups or files:\n%s", left)
	}
	for _, d := range treeDiff(before, b.snapshot()) {
		t.Error("after dpkg -P, against before dpkg -i: " + d)
	}

	phase("dpkg --force-confold -i " + debUpgrade + " (gpuwd-agent, configured first)")
	// Configuration management writes /etc/default/gpuwd-agent, then
	// installs (with --force-confold, as Ansible's apt does: a conffile found
	// in place makes dpkg ask, and fail on a closed stdin): the postinst
	// starts the agent at once. A purge stops it and takes the file.
	b.sh("install -m 0600 /dev/null /etc/default/gpuwd-agent && echo GPUWD_SIMULATE=h100x2 >/etc/default/gpuwd-agent")
	out = b.sh("dpkg --force-confold -i /tmp/debs/" + filepath.Base(v2[1]) + " </dev/null 2>&1")
	if strings.Contains(out, "not started") {
		t.Errorf("dpkg -i of a configured gpuwd-agent says it did not start it:\n%s", out)
	}
	b.running("gpuwd-agent", "gpuwd-agent", units[1].ready)
	b.sh("dpkg -P gpuwd-agent </dev/null 2>&1")
	if left := b.sh("pgrep -a -u gpuwd-agent; getent passwd gpuwd-agent; ls /etc/default/gpuwd-agent 2>/dev/null; true"); left != "" {
		t.Errorf("dpkg -P of the running gpuwd-agent left a process, its user or its /etc/default file:\n%s", left)
	}
	phase("done")
}
