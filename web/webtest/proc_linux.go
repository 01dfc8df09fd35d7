package webtest

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// ownProcessGroup starts Chromium as the leader of a new process group, so
// that Close can kill every process it forked (renderers, zygotes, the
// crashpad handler) at once, and has the kernel kill it when the thread that
// started it, and so the test binary, dies. chromedp's allocator starts and
// waits for the process; os/exec is only here for this hook's type.
func ownProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = new(syscall.SysProcAttr)
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// killProcesses kills the process group pgid and every process that uses the
// user data directory dir (a child that left the group would still name it).
func killProcesses(pgid int, dir string) {
	if pgid > 1 && pgid != syscall.Getpgrp() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	for _, pid := range browserProcesses(pgid, dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// reapProcesses kills what is left of a browser until nothing has been seen
// for a few passes in a row (a child can fork as its parent dies), and
// returns the processes still alive when it gives up.
func reapProcesses(pgid int, dir string) []int {
	deadline := time.Now().Add(5 * time.Second)
	for quiet := 0; quiet < 3; {
		left := browserProcesses(pgid, dir)
		if len(left) == 0 {
			quiet++
		} else {
			quiet = 0
			if time.Now().After(deadline) {
				return left
			}
			killProcesses(pgid, dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// browserProcesses lists the live processes (zombies excepted) in the process
// group pgid or with --user-data-dir=dir on their command line.
func browserProcesses(pgid int, dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	want := []byte("--user-data-dir=" + dir)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		state, group, ok := procStat(pid)
		if !ok || state == 'Z' || state == 'X' {
			continue
		}
		if pgid > 1 && group == pgid {
			pids = append(pids, pid)
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(arg, want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// procStat reads a process's state and process group from /proc/PID/stat.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 3 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(fields[2]))
	return fields[0][0], pgrp, err == nil
}
