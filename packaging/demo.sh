#!/usr/bin/env bash
# make demo: the aggregator on http://127.0.0.1:8080 and six simulated GPU
# nodes on loopback that register themselves with it, until Ctrl-C. Five of
# them form a simulated Slurm cluster (a head and workers, some busy, one
# drained, one idle); one is outside Slurm. One GPU gets into trouble, so
# that an alert fires within a minute. Everything lives in demo-data/ (the
# SQLite history too, so a second run continues it).
set -euo pipefail
BIN=${BIN:-bin}
LISTEN=${GPUWD_DEMO_LISTEN:-127.0.0.1:8080}
TOKEN=demo-token # loopback only; real fleets use a secret (see README)
# host:simulated GPUs:port:Slurm role (- for none):cost per hour in USD
nodes=(
  "gpu-node-h100:h100x8:9401:head:21.52"
  "gpu-node-a100:a100x8:9402:worker:14.32"
  "gpu-node-h200:h200x8:9403:worker:28.72"
  "gpu-node-l40s:l40sx4:9404:worker:3.96"
  "gpu-node-l4:l4x4:9405:worker:1.72"
  "gpu-node-mixed:mixed:9406:-:6.48"
)
# The simulated Slurm cluster. Every agent in it gets the same list and
# seed and computes the same jobs from the clock, so the head's queue and
# the workers' GPUs agree without the agents talking to each other.
SLURM_NODES="gpu-node-h100:h100x8,gpu-node-a100:a100x8,gpu-node-h200:h200x8,gpu-node-l40s:l40sx4:drain,gpu-node-l4:l4x4:idle"
SLURM_SEED=1
# The GPU in trouble: it overheats and reports an uncorrectable ECC error.
TROUBLE_PORT=9403
TROUBLE_HOST=gpu-node-h200
TROUBLE_GPU=2

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
mkdir -p demo-data
here=$(cd "$(dirname "$0")" && pwd)
# The default rule pack; alerts show at /api/v1/alerts and /api/v2/alerts
# (no receivers: add alerting.config_file to send them to chat).
# The Provision page launches more simulated pods on this machine.
cat >demo-data/gpuwd.yml <<CFG
global: {evaluation_interval: 15s}
rule_files: ["$here/rules/*.yml"]
provision:
  local: {agent_binary: "$(cd "$BIN" && pwd)/gpuwd-agent"}
  # A dry run: a pod launched from the dashboard whose GPUs idle for 10
  # minutes fires GPUPodIdle (Alerts page); 5 minutes later the Provision
  # page says it would have been stopped.
  idle_policies: [{name: demo-idle, provider: local, for: 10m, grace: 5m}]
CFG

alive() { # pid name log
  if ! kill -0 "$1" 2>/dev/null; then
    echo "$2 did not start; its log ($3):" >&2
    tail -n 5 "$3" >&2
    exit 1
  fi
}

# The aggregator and its dashboard.
# Its pages are public (--public-dashboard); silencing and editing rules
# need a login: gpuwd makes an admin token in its data directory.
"$BIN/gpuwd" serve --listen "$LISTEN" --data-dir demo-data/gpuwd --token "$TOKEN" --config demo-data/gpuwd.yml \
  --public-dashboard --log-format json >demo-data/gpuwd.log 2>&1 &
pids+=($!)
sleep 1
alive "${pids[0]}" "gpuwd serve" demo-data/gpuwd.log

seed=1
for n in "${nodes[@]}"; do
  IFS=: read -r host spec port role cost <<<"$n"
  slurm=()
  if [[ $role != - ]]; then
    slurm=(--simulate-slurm "$role" --simulate-slurm-nodes "$SLURM_NODES" --simulate-slurm-seed "$SLURM_SEED")
  fi
  "$BIN/gpuwd-agent" --simulate "$spec" --simulate-seed "$seed" --hostname "$host" --cost-per-hour "$cost" \
    ${slurm[@]+"${slurm[@]}"} --listen "127.0.0.1:$port" --aggregator-url "http://$LISTEN" --token "$TOKEN" \
    --log-format json >"demo-data/$host.log" 2>&1 &
  pids+=($!)
  seed=$((seed + 1))
done
sleep 1
for i in "${!nodes[@]}"; do
  IFS=: read -r host _ _ _ _ <<<"${nodes[$i]}"
  alive "${pids[$((i + 1))]}" "agent $host" "demo-data/$host.log"
done

# Trouble on one GPU: pinned at 92 °C (GPUTemperatureHigh, critical after
# 2 minutes), and XID 48 (GPUXidCritical, at the first evaluation that
# sees the XID counter go up: so the XID comes once, and again once the
# aggregator has scraped the first).
trouble() {
  local agent="http://127.0.0.1:$TROUBLE_PORT" sent
  post() { curl -fsS --max-time 5 -X POST "$agent/debug/sim/$1?gpu=$TROUBLE_GPU&$2" >/dev/null; }
  post heat celsius=92
  sent=$(date +%s)
  post xid xid=48
  for _ in $(seq 90); do
    sleep 1
    if curl -fsS --max-time 5 -G "http://$LISTEN/api/v1/query" --data-urlencode \
      "query=timestamp(gpuwd_xid_errors_total{hostname=\"$TROUBLE_HOST\",gpu=\"$TROUBLE_GPU\",xid=\"48\"}) > $sent" |
      grep -q '"xid":"48"'; then
      break
    fi
  done
  post xid xid=48
}
if command -v curl >/dev/null; then
  trouble >demo-data/trouble.log 2>&1 &
  pids+=($!)
  trouble_msg="GPU $TROUBLE_GPU of $TROUBLE_HOST overheats and reports XID 48: GPUXidCritical fires within a minute,
GPUTemperatureHigh after two."
else
  trouble_msg="(curl not found: no GPU gets into trouble; see the curl commands below)"
fi

cat <<MSG

gpu-watchdog demo: the aggregator and ${#nodes[@]} simulated GPU nodes are running.

  dashboard        http://$LISTEN/            (overview, GPU wall, nodes, Slurm, alerts, targets; APIs at /api)
  admin login      http://$LISTEN/login       (no name; the token is in demo-data/gpuwd/admin-token)
$(for n in "${nodes[@]}"; do
  IFS=: read -r host spec port role _ <<<"$n"
  printf '  %-16s %-8s %-8s http://127.0.0.1:%s/metrics\n' "$host" "$spec" "${role/#-/no-slurm}" "$port"
done)

Slurm is simulated: gpu-node-h100 is the head, gpu-node-l40s is drained, gpu-node-l4 gets
no jobs, gpu-node-mixed is outside Slurm. Jobs start and end as on a busy cluster; some
hold GPUs and do nothing (the GPU wall shows them).
$trouble_msg

The agents registered themselves; the first scrapes land within 15 s. Ask the fleet:
  $BIN/gpuwd query 'up'
  $BIN/gpuwd query 'avg by (hostname, modelName) (DCGM_FI_DEV_GPU_UTIL)'
  $BIN/gpuwd query 'count by (user) (gpuwd_gpu_job_info)'
  $BIN/gpuwd query --start 10m --step 1m 'sum(DCGM_FI_DEV_POWER_USAGE)'
  curl -s 'http://$LISTEN/api/v1/targets'
  curl -s -X POST 'http://127.0.0.1:9401/debug/sim/xid?gpu=3&xid=79'   # an XID on demand
  curl -s -X POST 'http://127.0.0.1:9402/debug/sim/lose?gpu=5'         # a GPU falls off the bus
  curl -s -X POST 'http://127.0.0.1:9404/debug/sim/heat?gpu=0&celsius=96' # a GPU overheats
  curl -s 'http://$LISTEN/api/v1/alerts'                               # the default rule pack's alerts
  $BIN/gpuwd silence add --admin-token-file demo-data/gpuwd/admin-token GPUTemperatureHigh --comment "fan swap" --duration 1h

Grafana: add a Prometheus data source with URL http://$LISTEN; the
dcgm-exporter dashboard 12239 works unchanged. Logs: demo-data/*.log.
Ctrl-C stops everything.
MSG
wait
