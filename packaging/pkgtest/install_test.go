package pkgtest

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/internal/testenv"
)

// dpkgRoot is a throwaway system root that dpkg installs into, with what a
// Debian base system has that the packages and their maintainer scripts
// touch: the user and group files (video included), and the system
// directories, owned by a package as they are on a real system (dpkg
// removes a directory no other package owns).
type dpkgRoot struct {
	t   *testing.T
	dir string
}

func newDpkgRoot(t *testing.T) *dpkgRoot {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "installing a .deb into a throwaway root needs root (dpkg, useradd --prefix)")
	}
	for _, p := range []string{"dpkg", "dpkg-deb", "dpkg-query", "systemctl"} {
		testenv.LookPath(t, p)
	}
	r := &dpkgRoot{t: t, dir: t.TempDir()}
	files := map[string]string{
		"etc/passwd":  "root:x:0:0:root:/root:/bin/bash\n",
		"etc/group":   "root:x:0:\nvideo:x:44:\n",
		"etc/shadow":  "root:*:19000:0:99999:7:::\n",
		"etc/gshadow": "root:*::\nvideo:*::\n",
	}
	for _, d := range []string{"etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		mustMkdir(t, filepath.Join(r.dir, d))
	}
	for name, content := range files {
		mustWrite(t, filepath.Join(r.dir, name), content)
		mustWrite(t, filepath.Join(r.dir, name+"-"), content) // shadow's backups, as on any system
	}
	mustWrite(t, filepath.Join(r.dir, "var/lib/dpkg/status"), "")
	mustWrite(t, filepath.Join(r.dir, "var/lib/dpkg/available"), "")

	base := t.TempDir()
	for _, d := range []string{"etc/default", "etc/systemd/system/multi-user.target.wants", "lib/systemd/system", "usr/bin", "usr/share", "var/lib"} {
		mustMkdir(t, filepath.Join(base, d))
	}
	mustMkdir(t, filepath.Join(base, "DEBIAN"))
	mustWrite(t, filepath.Join(base, "DEBIAN/control"), "Package: base-dirs\nVersion: 1\nArchitecture: all\n"+
		"Maintainer: pkgtest <pkgtest@localhost>\nDescription: the directories of a base system\n")
	deb := filepath.Join(t.TempDir(), "base-dirs.deb")
	run(t, nil, "dpkg-deb", "--root-owner-group", "--build", base, deb)
	r.dpkg("-i", deb)
	return r
}

// path is name inside the root.
func (r *dpkgRoot) path(name string) string { return filepath.Join(r.dir, name) }

// dpkg runs dpkg on the root, maintainer scripts included (they act on
// $DPKG_ROOT), and returns what it printed. Dependencies are not installed
// in the root, hence --force-depends.
func (r *dpkgRoot) dpkg(args ...string) string {
	r.t.Helper()
	args = append([]string{"--root=" + r.dir, "--force-script-chrootless", "--force-depends", "--log=/dev/null"}, args...)
	cmd := exec.Command("dpkg", args...)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// status is the package's dpkg status and version ("ii 1.2.3", "rc 1.2.3").
func (r *dpkgRoot) status(pkg string) string {
	out, _ := exec.Command("dpkg-query", "--admindir="+r.path("var/lib/dpkg"), "-W", "-f=${db:Status-Abbrev}${Version}", pkg).Output()
	return strings.Join(strings.Fields(string(out)), " ")
}

// user is name's /etc/passwd line, or "".
func (r *dpkgRoot) user(name string) string {
	for line := range strings.SplitSeq(readFile(r.t, r.path("etc/passwd")), "\n") {
		if strings.HasPrefix(line, name+":") {
			return line
		}
	}
	return ""
}

// snapshot is every path of the root outside dpkg's database with its type
// and mode, and the content of regular files (shadow's backups excepted).
func (r *dpkgRoot) snapshot() map[string]string {
	r.t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r.dir, p)
		if rel == "var/lib/dpkg" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		snap[rel] = info.Mode().String()
		if info.Mode().IsRegular() && !strings.HasSuffix(rel, "-") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			snap[rel] += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return snap
}

// sameTree reports how after differs from before.
func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, a := range after {
		if b, ok := before[p]; !ok {
			t.Errorf("left behind: %s (%s)", p, a)
		} else if a != b {
			t.Errorf("changed: %s: %s, was %s", p, a, b)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("removed: %s", p)
		}
	}
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	return err == nil
}

// Install, upgrade, remove and purge each package with the real dpkg and
// maintainer scripts: purge leaves the root exactly as it was.
func TestInstallUpgradeRemovePurge(t *testing.T) {
	_, agentDeb, serverDeb := packages(t)
	for _, c := range []struct {
		pkg, deb, user, home, conffile string
		state                          string                          // a file the running program keeps
		installed                      func(t *testing.T, r *dpkgRoot) // more checks after the first install
		running                        func(t *testing.T, r *dpkgRoot) // what the admin and the program add
	}{
		{
			pkg: "gpuwd-agent", deb: agentDeb, user: "gpuwd-agent", home: "/nonexistent", conffile: "etc/default/gpuwd-agent",
			state: "var/lib/gpuwd/slurm/munge/munge.key",
			running: func(t *testing.T, r *dpkgRoot) {
				// The admin adds the Slurm drop-in as slurm.conf says; the agent
				// keeps Slurm state.
				dropIn := r.path("etc/systemd/system/gpuwd-agent.service.d")
				mustMkdir(t, dropIn, r.path("var/lib/gpuwd/slurm/munge"), r.path("var/lib/gpuwd/slurmd"))
				if err := os.Symlink("/usr/share/gpuwd-agent/slurm.conf", filepath.Join(dropIn, "slurm.conf")); err != nil {
					t.Fatal(err)
				}
				mustWrite(t, r.path("var/lib/gpuwd/slurm/munge/munge.key"), "key")
			},
		},
		{
			pkg: "gpuwd", deb: serverDeb, user: "gpuwd", home: "/var/lib/gpuwd", conffile: "etc/gpuwd/gpuwd.yml",
			state: "var/lib/gpuwd/gpuwd.db",
			installed: func(t *testing.T, r *dpkgRoot) {
				checkToken(t, r)
				if !exists(t, r.path("etc/gpuwd/rules")) {
					t.Error("no /etc/gpuwd/rules for local rules")
				}
			},
			running: func(t *testing.T, r *dpkgRoot) {
				// systemd's StateDirectory=gpuwd and what gpuwd keeps there.
				mustMkdir(t, r.path("var/lib/gpuwd"))
				mustWrite(t, r.path("var/lib/gpuwd/gpuwd.db"), "history")
				mustWrite(t, r.path("var/lib/gpuwd/admin-token"), "token")
			},
		},
	} {
		t.Run(c.pkg, func(t *testing.T) {
			r := newDpkgRoot(t)
			before := r.snapshot()

			out := r.dpkg("-i", c.deb)
			if got := r.status(c.pkg); got != "ii "+debVersion {
				t.Fatalf("status after install %q, want ii %s", got, debVersion)
			}
			if !strings.Contains(out, c.pkg+" is enabled at boot but not started") {
				t.Errorf("first install: no word on how to start it:\n%s", out)
			}
			wantUser := regexp.MustCompile("^" + c.user + `:x:\d+:\d+:[^:]*:` + c.home + ":/usr/sbin/nologin$")
			if u := r.user(c.user); !wantUser.MatchString(u) {
				t.Errorf("user %q, want a system user %s with home %s and no shell", u, c.user, c.home)
			}
			link := r.path("etc/systemd/system/multi-user.target.wants/" + c.pkg + ".service")
			if target, err := os.Readlink(link); err != nil || target != "/lib/systemd/system/"+c.pkg+".service" {
				t.Errorf("not enabled: %s -> %q (%v)", link, target, err)
			}
			if got := run(t, nil, r.path("usr/bin/"+c.pkg), "--version"); got != fmt.Sprintf("%s %s (%s)\n", c.pkg, buildVersion, buildRevision) {
				t.Errorf("installed %s --version: %q", c.pkg, got)
			}
			if c.installed != nil {
				c.installed(t, r)
			}

			// The admin configures it and it runs; an upgrade changes none of it
			// (the token, the users, the enablement included).
			mustWrite(t, r.path(c.conffile), readFile(t, r.path(c.conffile))+"\n# edited by the admin\n")
			c.running(t, r)
			configured := r.snapshot()
			out = r.dpkg("-i", c.deb)
			if strings.Contains(out, "not started") {
				t.Errorf("upgrade spoke as a first install:\n%s", out)
			}
			sameTree(t, configured, r.snapshot())

			// Remove keeps configuration, state and the user.
			r.dpkg("-r", c.pkg)
			if got := r.status(c.pkg); got != "rc "+debVersion {
				t.Errorf("status after remove %q, want rc %s", got, debVersion)
			}
			if exists(t, r.path("usr/bin/"+c.pkg)) || !exists(t, r.path(c.conffile)) || !exists(t, r.path(c.state)) || r.user(c.user) == "" {
				t.Error("remove must take the program and leave its configuration, state and user")
			}

			r.dpkg("-P", c.pkg)
			if got := r.status(c.pkg); got != "" {
				t.Errorf("status after purge %q, want none", got)
			}
			sameTree(t, before, r.snapshot())
		})
	}
}

// checkToken: postinst made the agents' registration token, readable by
// root and group gpuwd only.
func checkToken(t *testing.T, r *dpkgRoot) {
	t.Helper()
	st, err := os.Stat(r.path("etc/gpuwd/token"))
	if err != nil {
		t.Fatal(err)
	}
	owner := st.Sys().(*syscall.Stat_t)
	gid := strings.Split(r.user("gpuwd"), ":")[3]
	if got := fmt.Sprintf("%v %d:%d", st.Mode().Perm(), owner.Uid, owner.Gid); got != "-rw-r----- 0:"+gid {
		t.Errorf("token %s, want -rw-r----- root:gpuwd (0:%s)", got, gid)
	}
	if tok := readFile(t, r.path("etc/gpuwd/token")); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
		t.Errorf("token is not 32 random bytes in hex: %d characters", len(tok))
	}
}

func mustMkdir(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The installed gpuwd starts on the installed configuration: it loads the
// rule pack and alerting.yml, and agents register with the generated token.
func TestInstalledAggregatorServes(t *testing.T) {
	_, _, serverDeb := packages(t)
	r := newDpkgRoot(t)
	r.dpkg("-i", serverDeb)

	// The installed file, its absolute paths moved into the root.
	cfg := strings.NewReplacer("/etc/gpuwd/", r.path("etc/gpuwd")+"/", "/usr/share/gpuwd/", r.path("usr/share/gpuwd")+"/").
		Replace(readFile(t, r.path("etc/gpuwd/gpuwd.yml")))
	cfgFile := filepath.Join(t.TempDir(), "gpuwd.yml")
	mustWrite(t, cfgFile, cfg)
	cmd := exec.Command(r.path("usr/bin/gpuwd"), "serve", "--config", cfgFile, "--data-dir", t.TempDir(),
		"--listen", "127.0.0.1:0", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	addr := ""
	lines := bufio.NewScanner(stderr)
	for addr == "" && lines.Scan() {
		var l struct{ Msg, Addr string }
		if json.Unmarshal(lines.Bytes(), &l) == nil && l.Msg == "serving" {
			addr = l.Addr
		}
	}
	if addr == "" {
		t.Fatalf("gpuwd serve ended before serving: %v", lines.Err())
	}
	go func() { // keep the pipe drained
		for lines.Scan() {
		}
	}()
	base := "http://" + addr

	var rules struct {
		Data struct{ Groups []struct{ File string } }
	}
	getJSON(t, base+"/api/v1/rules", &rules)
	pack, _ := filepath.Glob(filepath.Join(repo, "packaging/rules/*.yml"))
	if len(rules.Data.Groups) != len(pack) {
		t.Errorf("%d rule groups loaded, want one per file of the pack (%d): %+v", len(rules.Data.Groups), len(pack), rules.Data.Groups)
	}
	var integrations struct{ Data []struct{ Receiver string } }
	getJSON(t, base+"/api/v1/notifications/integrations", &integrations)
	receivers := map[string]bool{}
	for _, i := range integrations.Data {
		receivers[i.Receiver] = true
	}
	if !receivers["team-chat"] || !receivers["oncall"] {
		t.Errorf("alerting.yml's receivers are not loaded: %+v", integrations.Data)
	}

	token := readFile(t, r.path("etc/gpuwd/token"))
	for bearer, want := range map[string]int{token: http.StatusOK, "wrong": http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/agents/register",
			strings.NewReader(`{"url":"http://127.0.0.1:9/metrics","node":"node-1"}`))
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("register with the %s token: %s, want %d", map[bool]string{true: "generated", false: "wrong"}[bearer == token], resp.Status, want)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
