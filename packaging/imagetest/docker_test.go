package imagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dockerCLI runs one docker client: one that builds with BuildKit.
type dockerCLI struct{ path string }

// findDocker picks the first docker on PATH that builds with BuildKit: one
// with the buildx plugin, or a client older than 23, whose own
// DOCKER_BUILDKIT=1 build needs no plugin (Debian's docker.io 20.10). A
// newer client without buildx refuses BuildKit, and its classic builder
// would pull every stage's image. why says what is missing.
func findDocker() (d *dockerCLI, why string) {
	why = "docker not found on PATH"
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "docker")
		real, err := filepath.EvalSymlinks(p)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		c := &dockerCLI{path: p}
		if _, err := c.try("version", "--format", "{{.Server.Version}}"); err != nil {
			why = fmt.Sprintf("docker engine not reachable (%s version): %v", p, err)
			continue
		}
		if _, err := c.try("buildx", "version"); err == nil {
			return c, ""
		}
		v, err := c.try("version", "--format", "{{.Client.Version}}")
		if major, _, _ := strings.Cut(v, "."); err == nil && major != "" {
			if n, err := strconv.Atoi(major); err == nil && n < 23 {
				return c, ""
			}
		}
		why = fmt.Sprintf("%s (client %s) has no buildx plugin, so cannot build with BuildKit: install docker-buildx, or put docker.io's own client first on PATH", p, v)
	}
	return nil, why
}

// try runs docker and returns its trimmed stdout; the error carries stderr.
func (d *dockerCLI) try(args ...string) (string, error) {
	return d.tryContext(context.Background(), args...)
}

func (d *dockerCLI) tryContext(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, d.path, args...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return strings.TrimSpace(stdout.String()), fmt.Errorf("docker %s: %w: %s",
			strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// build builds dockerfile in ctxDir as image, with BuildKit.
func (d *dockerCLI) build(ctxDir, dockerfile, image string, args ...string) error {
	full := append([]string{"build", "--quiet", "-f", dockerfile, "-t", image}, labelArgs()...)
	full = append(append(full, args...), ctxDir)
	_, err := d.try(full...)
	return err
}

// removeRun removes everything labelled with run: containers first, then
// networks and images.
func (d *dockerCLI) removeRun(run string) {
	d.removeLabelled(labelRun + "=" + run)
}

func (d *dockerCLI) removeLabelled(filter string) {
	if ids := d.list("ps", "-aq", "--filter", "label="+filter); len(ids) > 0 {
		_, _ = d.try(append([]string{"rm", "-f", "-v"}, ids...)...)
	}
	if ids := d.list("network", "ls", "-q", "--filter", "label="+filter); len(ids) > 0 {
		_, _ = d.try(append([]string{"network", "rm"}, ids...)...)
	}
	// Images built on the base go before it.
	for _, ref := range []string{"gpuwd-imagetest-agent", "gpuwd-imagetest-gpuwd", "gpuwd-imagetest-base"} {
		if ids := d.list("images", "-q", "--filter", "label="+filter, "--filter", "reference="+ref); len(ids) > 0 {
			_, _ = d.try(append([]string{"rmi", "-f"}, ids...)...)
		}
	}
}

// cacheIDs lists the build cache's records.
func (d *dockerCLI) cacheIDs() map[string]bool {
	ids := map[string]bool{}
	for _, id := range d.list("system", "df", "-v", "--format", "{{range .BuildCache}}{{.ID}} {{end}}") {
		ids[id] = true
	}
	return ids
}

// pruneCacheSince removes the build cache records made since before (by
// this run's builds: its context, the layers over its base image), so that
// runs do not pile up cache. The daemon takes one id per prune, and removes
// a record only once no other uses it: children go first, so a few passes.
func (d *dockerCLI) pruneCacheSince(before map[string]bool) {
	last := -1
	for range 8 {
		var fresh []string
		for id := range d.cacheIDs() {
			if !before[id] {
				fresh = append(fresh, id)
			}
		}
		if len(fresh) == 0 || len(fresh) == last {
			return
		}
		last = len(fresh)
		for _, id := range fresh {
			_, _ = d.try("builder", "prune", "-f", "--filter", "id="+id)
		}
	}
}

// removeLeftovers removes what earlier runs made whose test process is
// gone (killed by a timeout, say), and leaves concurrent runs alone.
func (d *dockerCLI) removeLeftovers() {
	runs := map[string]bool{}
	for _, kind := range [][]string{
		{"ps", "-a", "--format", `{{.Label "` + labelRun + `"}}`},
		{"network", "ls", "--format", `{{.Label "` + labelRun + `"}}`},
		{"images", "--format", `{{.Label "` + labelRun + `"}}`},
	} {
		for _, run := range d.list(append(kind, "--filter", "label="+labelRun)...) {
			runs[run] = true
		}
	}
	for run := range runs {
		pid, err := strconv.Atoi(strings.SplitN(run, "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			d.removeRun(run)
		}
	}
}

func (d *dockerCLI) list(args ...string) []string {
	out, err := d.try(args...)
	if err != nil {
		return nil
	}
	var ids []string
	for _, f := range strings.Fields(out) {
		if f != "" && f != "<no" && f != "value>" {
			ids = append(ids, f)
		}
	}
	return ids
}

// inspect evaluates a Go template over a container's or image's JSON.
func (d *dockerCLI) inspect(name, format string) (string, error) {
	return d.try("inspect", "--format", format, name)
}

// exec runs a command in a container, with a deadline.
func (d *dockerCLI) exec(name string, timeout time.Duration, cmd ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.tryContext(ctx, append([]string{"exec", name}, cmd...)...)
}

// logs is a container's log, stdout and stderr together.
func (d *dockerCLI) logs(name string) string {
	cmd := exec.Command(d.path, "logs", name)
	out, _ := cmd.CombinedOutput()
	return string(out)
}
