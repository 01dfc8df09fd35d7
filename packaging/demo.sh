#!/usr/bin/env bash
# make demo: simulated GPU nodes on loopback, each a real gpuwd-agent with
# simulated GPUs, until Ctrl-C.
set -euo pipefail
BIN=${BIN:-bin}
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
seed=1
for n in "${nodes[@]}"; do
  IFS=: read -r host spec port <<<"$n"
  "$BIN/gpuwd-agent" --simulate "$spec" --simulate-seed "$seed" --hostname "$host" \
    --listen "127.0.0.1:$port" --log-format json >"demo-data/$host.log" 2>&1 &
  pids+=($!)
  seed=$((seed + 1))
done
sleep 1
for i in "${!nodes[@]}"; do
  IFS=: read -r host spec port <<<"${nodes[$i]}"
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    echo "agent $host did not start; its log (demo-data/$host.log):" >&2
    tail -n 5 "demo-data/$host.log" >&2
    exit 1
  fi
done
cat <<MSG

gpu-watchdog demo: ${#nodes[@]} simulated GPU nodes are running.

  node             GPUs     metrics
$(for n in "${nodes[@]}"; do IFS=: read -r host spec port <<<"$n"; printf '  %-16s %-8s http://127.0.0.1:%s/metrics\n' "$host" "$spec" "$port"; done)

Look at them:
  curl -s http://127.0.0.1:9401/metrics | grep DCGM_FI_DEV_GPU_UTIL
  curl -s http://127.0.0.1:9401/api/v1/node
  curl -s -X POST 'http://127.0.0.1:9401/debug/sim/xid?gpu=3&xid=79'   # an XID on demand
  curl -s -X POST 'http://127.0.0.1:9402/debug/sim/lose?gpu=5'         # a GPU falls off the bus

Point any Prometheus at them (targets 127.0.0.1:9401-9404) and the
dcgm-exporter Grafana dashboard 12239 works unchanged. Logs: demo-data/*.log.
Ctrl-C stops everything.
MSG
wait
