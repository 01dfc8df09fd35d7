#!/bin/sh
# /pre_start.sh of the agent image. RunPod's /start.sh runs /pre_start.sh
# with bash, before the rest of the pod's start-up, and waits for it; under
# its `set -e` a hook that fails ends the pod. So this hook starts
# gpuwd-supervise (which starts and keeps gpuwd-agent running) in the
# background and returns at once, whatever happens to the agent.
#
# The supervisor writes to PID 1's stdout, which is the container log
# (docker logs, RunPod's log view) whatever the hook's own output is.
# It stays in the hook's process group, so that tini -g hands it the
# container's SIGTERM. GPUWD_AGENT_AUTOSTART=0 leaves the agent off.
# A /pre_start.sh that the base image had is kept as
# /usr/local/lib/gpuwd/pre_start.base.sh and run afterwards.

run_dir=${GPUWD_AGENT_RUN_DIR:-/run/gpuwd-agent}
base_hook=/usr/local/lib/gpuwd/pre_start.base.sh

# running reports whether a supervisor runs already (this hook ran twice).
# A pid file left by the container's previous run (docker restart keeps
# /run) may name another process now: its command line tells.
running() {
    pid=$(cat "$run_dir/supervise.pid" 2>/dev/null) &&
        tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q gpuwd-supervise
}

if [ "${GPUWD_AGENT_AUTOSTART:-1}" = 0 ]; then
    echo "gpuwd-agent: not started (GPUWD_AGENT_AUTOSTART=0)"
elif running; then
    echo "gpuwd-agent: already supervised"
elif [ -w /proc/1/fd/1 ]; then
    /usr/local/bin/gpuwd-supervise </dev/null >>/proc/1/fd/1 2>&1 &
    echo "gpuwd-agent: starting in the background (log: /var/log/gpuwd-agent.log)"
else
    /usr/local/bin/gpuwd-supervise </dev/null 2>&1 &
    echo "gpuwd-agent: starting in the background (log: /var/log/gpuwd-agent.log)"
fi

if [ -f "$base_hook" ]; then
    exec bash "$base_hook"
fi
exit 0
