#!/usr/bin/env bash
# Runs a command (default: npm test) against a throwaway Redis Cluster of three
# masters on free loopback ports, with REDIS_CLUSTER_NODES set; stops the
# cluster afterwards. Same recipe as internal/testenv/cluster.go: cluster-mode
# servers, CLUSTER ADDSLOTSRANGE per master, MEET, wait for cluster_state:ok.
set -euo pipefail
[ $# -gt 0 ] || set -- npm test
dir=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap stop EXIT

# Six free ports (client + bus per master), held open together so they differ.
read -r -a ports < <(node -e '
  const net = require("node:net");
  const ls = Array.from({ length: 6 }, () => net.createServer().listen(0, "127.0.0.1"));
  Promise.all(ls.map((l) => new Promise((r) => l.on("listening", r)))).then(() => {
    console.log(ls.map((l) => l.address().port).join(" "));
    ls.forEach((l) => l.close());
  });')
ranges=("0 5460" "5461 10922" "10923 16383")
nodes=()
for i in 0 1 2; do
  port=${ports[$((2 * i))]} bus=${ports[$((2 * i + 1))]}
  mkdir -p "$dir/n$i"
  redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
    --cluster-config-file "$dir/n$i/nodes.conf" --save '' --appendonly no \
    --dir "$dir/n$i" --logfile "$dir/n$i/redis.log" &
  pids+=($!)
  nodes+=("127.0.0.1:$port")
done
for i in 0 1 2; do
  port=${ports[$((2 * i))]}
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  redis-cli -p "$port" cluster set-config-epoch $((i + 1)) >/dev/null
  redis-cli -p "$port" cluster addslotsrange ${ranges[$i]} >/dev/null
done
for i in 1 2; do
  redis-cli -p "${ports[0]}" cluster meet 127.0.0.1 "${ports[$((2 * i))]}" "${ports[$((2 * i + 1))]}" >/dev/null
done
for i in 0 1 2; do
  port=${ports[$((2 * i))]}
  for _ in $(seq 300); do
    info=$(redis-cli -p "$port" cluster info)
    if grep -q 'cluster_state:ok' <<<"$info" && grep -q 'cluster_known_nodes:3' <<<"$info"; then break; fi
    sleep 0.05
  done
  grep -q 'cluster_state:ok' <<<"$info" || { echo "cluster not ok on $port" >&2; tail "$dir"/n*/redis.log >&2; exit 1; }
done
echo "redis cluster up: ${nodes[*]}" >&2
REDIS_CLUSTER_NODES=$(IFS=,; echo "${nodes[*]}") "$@"
