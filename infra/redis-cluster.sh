#!/usr/bin/env bash
# A local Redis Cluster of three primaries (no replicas) for tests and trials:
#
#   bash infra/redis-cluster.sh start <data dir> [first port, default 17000]
#   bash infra/redis-cluster.sh stop  <data dir>
#
# `start` runs redis-server in cluster mode on 127.0.0.1:<port>, <port+1>, <port+2> (cluster bus
# on port+10000), each with its data (nodes.conf, log, pid) in <data dir>/<port>, no persistence,
# joins them with `redis-cli --cluster create … --cluster-replicas 0` and waits until every node
# says cluster_state:ok. Then: REDIS_CLUSTER_NODES=127.0.0.1:17000,127.0.0.1:17001,127.0.0.1:17002.
# `stop` shuts the nodes down (by their pid files) and deletes <data dir>.
# Needs redis-server and redis-cli (Debian: redis-server; `pnpm test` installs it through infra/services.sh).
set -euo pipefail

command=${1:-}
dir=${2:-}
base=${3:-17000}
if [[ -z "$command" || -z "$dir" ]]; then
  echo "usage: $0 start|stop <data dir> [first port]" >&2
  exit 2
fi
ports=("$base" "$((base + 1))" "$((base + 2))")

stop() {
  for pidfile in "$dir"/*/redis.pid; do
    [[ -f "$pidfile" ]] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$dir"
}

case "$command" in
  start)
    for tool in redis-server redis-cli; do
      if ! command -v "$tool" >/dev/null; then
        echo "$tool not found (Debian: apt-get install redis-server)" >&2
        exit 1
      fi
    done
    mkdir -p "$dir"
    for port in "${ports[@]}"; do
      if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
        echo "port $port is taken by another Redis" >&2
        exit 1
      fi
      mkdir -p "$dir/$port"
      redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
        --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 2000 \
        --dir "$dir/$port" --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log"
    done
    for port in "${ports[@]}"; do
      for _ in $(seq 1 100); do
        redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
      done
    done
    redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 || {
      cat "$dir/create.log" >&2
      stop
      exit 1
    }
    for port in "${ports[@]}"; do
      for i in $(seq 1 200); do
        redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
        if [[ $i == 200 ]]; then
          echo "node $port: cluster not ok" >&2
          stop
          exit 1
        fi
        sleep 0.05
      done
    done
    echo "REDIS_CLUSTER_NODES=$(IFS=,; echo "${ports[*]/#/127.0.0.1:}")"
    ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop <data dir> [first port]" >&2
    exit 2
    ;;
esac
