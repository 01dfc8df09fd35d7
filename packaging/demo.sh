#!/usr/bin/env bash
# make demo: the aggregator on http://127.0.0.1:8080 and simulated GPU nodes
# on loopback that register themselves with it, until Ctrl-C. Everything
# lives in demo-data/ (the SQLite history too, so a second run continues it).
set -euo pipefail
BIN=${BIN:-bin}
LISTEN=${GPUWD_DEMO_LISTEN:-127.0.0.1:8080}
TOKEN=demo-token # loopback only; real fleets use a secret (see README)
nodes=(
  "gpu-node-h100:h100x8:9401"
  "gpu-node-a100:a100x8:9402"
  "gpu-node-h200:h200x8:9403"
  "gpu-node-mixed:mixed:9404"
)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
mkdir -p demo-data
here=$(cd "$(dirname "$0")" && pwd)
# The default rule pack; alerts show at /api/v1/alerts and /api/v2/alerts
# (no receivers: add alerting.config_file to send them to chat).
cat >demo-data/gpuwd.yml <<CFG
global: {evaluation_interval: 15s}
rule_files: ["$here/rules/*.yml"]
CFG

alive() { # pid name log
  if ! kill -0 "$1" 2>/dev/null; then
    echo "$2 did not start; its log ($3):" >&2
    tail -n 5 "$3" >&2
    exit 1
  fi
}

"$BIN/gpuwd" serve --listen "$LISTEN" --data-dir demo-data/gpuwd --token "$TOKEN" --config demo-data/gpuwd.yml \
  --log-format json >demo-data/gpuwd.log 2>&1 &
pids+=($!)
sleep 1
alive "${pids[0]}" "gpuwd serve" demo-data/gpuwd.log

seed=1
for n in "${nodes[@]}"; do
  IFS=: read -r host spec port <<<"$n"
  "$BIN/gpuwd-agent" --simulate "$spec" --simulate-seed "$seed" --hostname "$host" --cost-per-hour 21.52 \
    --listen "127.0.0.1:$port" --aggregator-url "http://$LISTEN" --token "$TOKEN" \
    --log-format json >"demo-data/$host.log" 2>&1 &
  pids+=($!)
  seed=$((seed + 1))
done
sleep 1
for i in "${!nodes[@]}"; do
  IFS=: read -r host spec port <<<"${nodes[$i]}"
  alive "${pids[$((i + 1))]}" "agent $host" "demo-data/$host.log"
done

cat <<MSG

gpu-watchdog demo: the aggregator and ${#nodes[@]} simulated GPU nodes are running.

  dashboard        http://$LISTEN/            (overview, GPU wall, nodes, Slurm, alerts, targets; APIs at /api)
$(for n in "${nodes[@]}"; do IFS=: read -r host spec port <<<"$n"; printf '  %-16s %-8s http://127.0.0.1:%s/metrics\n' "$host" "$spec" "$port"; done)

The agents registered themselves; the first scrapes land within 15 s. Ask the fleet:
  $BIN/gpuwd query 'up'
  $BIN/gpuwd query 'avg by (hostname, modelName) (DCGM_FI_DEV_GPU_UTIL)'
  $BIN/gpuwd query --start 10m --step 1m 'sum(DCGM_FI_DEV_POWER_USAGE)'
  curl -s 'http://$LISTEN/api/v1/targets'
  curl -s -X POST 'http://127.0.0.1:9401/debug/sim/xid?gpu=3&xid=79'   # an XID on demand
  curl -s -X POST 'http://127.0.0.1:9402/debug/sim/lose?gpu=5'         # a GPU falls off the bus
  curl -s -X POST 'http://127.0.0.1:9403/debug/sim/heat?gpu=0&celsius=96' # a GPU overheats
  curl -s 'http://$LISTEN/api/v1/alerts'                               # the default rule pack's alerts
  $BIN/gpuwd silence add GPUTemperatureHigh --comment "fan swap" --duration 1h

Grafana: add a Prometheus data source with URL http://$LISTEN; the
dcgm-exporter dashboard 12239 works unchanged. Logs: demo-data/*.log.
Ctrl-C stops everything.
MSG
wait
