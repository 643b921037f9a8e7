#!/usr/bin/env bash
# Runs the whole service locally: PostgreSQL + Redis (started if needed), then the
# live-game-api simulator, the projector, two pairing workers, the API and the example event
# consumer (apps/example-subscriber, player history on :8004).
#
#   pnpm start            (= bash infra/start.sh)
#   WORKERS=3 pnpm start  (more worker processes)
#   pnpm start | tee run.log   (JSON lines when stdout is not a terminal; LOG_FORMAT=pretty|json to choose)
#
# Ctrl-C stops everything it started (SIGTERM, then SIGKILL after 10 s).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Readable coloured logs in a terminal, JSON lines otherwise (LOG_FORMAT, infra/logs.sh). With
# JSON, stdout carries the apps' log lines only: this script's own messages go to stderr (fd 3).
source infra/logs.sh
if [ "$LOG_FORMAT" = json ]; then exec 3>&2; else exec 3>&1; fi

bash infra/services.sh >&3

export NODE_ENV=${NODE_ENV:-development}
export LOG_LEVEL=${LOG_LEVEL:-info}
export PORT=${PORT:-8003}
export SIM_PORT=${SIM_PORT:-8002}
export LIVE_GAME_API_URL=${LIVE_GAME_API_URL:-http://127.0.0.1:$SIM_PORT}
# A local-only secret so curl examples work out of the box; set your own in production.
export JWT_SECRET=${JWT_SECRET:-local-dev-secret-not-for-production}
WORKERS=${WORKERS:-2}
# Ops ports (/metrics, /health, /ready) from OPS_PORT_BASE: API +1, projector +2, its standby +12, worker n +20+n.
OPS_PORT_BASE=${OPS_PORT_BASE:-9300}

# The apps run compiled, as the production images run them (workspace packages from their
# dist/): tsc -b builds only what changed since the last start (the first build takes about a
# minute). MM_FROM_SOURCE=1 runs the TypeScript through tsx instead: no build, but slower
# starts and a transpiling loader in every process.
if [ "${MM_FROM_SOURCE:-0}" = 1 ]; then
  app() { echo "--conditions=@mm/source --import tsx apps/$1/src/main.ts"; }
else
  echo "compiling (tsc -b, only what changed)…" >&3
  node node_modules/typescript/bin/tsc -b tsconfig.build.json >&3 ||
    { echo "start: the build failed (above); fix it, or run from the sources: MM_FROM_SOURCE=1 pnpm start" >&2; exit 1; }
  app() { echo "apps/$1/dist/src/main.js"; }
fi
# exec: in its pipeline subshell the app replaces the shell, so it is a direct child that
# stop() below reaches (a plain call would leave node a grandchild, orphaned by a SIGTERM).
# shellcheck disable=SC2046 # app's words are node's arguments
run() { exec node $(app "$1"); }
pids=()
start() {
  local name=$1; shift
  ( "$@" 2>&1 | format_logs "$name" ) &
  pids+=($!)
}
stop() {
  trap - INT TERM EXIT
  echo "stopping…" >&3
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.1
  done
  for pid in "${pids[@]}"; do pkill -KILL -P "$pid" 2>/dev/null || true; done
}
# Ctrl-C or a TERM also ends this script (else it would go on waiting for the API to be ready).
trap 'stop; exit 130' INT TERM
trap stop EXIT

# shellcheck disable=SC2046
start live-game-sim env PORT="$SIM_PORT" node $(app live-game-sim)
# Each app serves /metrics, /health and /ready on an ops port of its own (README "Operations").
OPS_PORT=$((OPS_PORT_BASE + 2)) start projector run projector
# A hot standby: it takes over within ≈ 200 ms if the first projector dies (one leads at a time).
OPS_PORT=$((OPS_PORT_BASE + 12)) start projector-standby run projector
for i in $(seq 1 "$WORKERS"); do OPS_PORT=$((OPS_PORT_BASE + 20 + i)) start "worker-$i" run worker; done
OPS_PORT=$((OPS_PORT_BASE + 1)) start api run api
# The example consumer follows the API's event feed (it waits for the API by reconnecting) and
# mints its service token from JWT_SECRET; its tables are in the schema player_history.
export PLAYER_HISTORY_PORT=${PLAYER_HISTORY_PORT:-8004} FEED_URL=${FEED_URL:-http://127.0.0.1:$PORT}
start player-history run example-subscriber

for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
if curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1; then
  cat >&3 <<TXT

  matchmaking is running
    API              http://127.0.0.1:$PORT      (GET /health, GET /ready)
    live-game-sim    $LIVE_GAME_API_URL
    player history   http://127.0.0.1:$PLAYER_HISTORY_PORT/players/<user>/history  (example event consumer, tenant-1)
    workers          $WORKERS
    ops ports        api :$((OPS_PORT_BASE + 1)), projectors :$((OPS_PORT_BASE + 2)) :$((OPS_PORT_BASE + 12)), workers :$((OPS_PORT_BASE + 21))…  (/metrics, /health, /ready)
    queue UI         http://127.0.0.1:$PORT/internal/queues/ui  (sign in with: pnpm --silent jwt tenant-1 ops --admin)
  Try it (README "Quick tour"):
    TOKEN=\$(pnpm --silent jwt tenant-1 alice)
    curl -s -X POST http://127.0.0.1:$PORT/v1/matchmaking/queue -H "authorization: Bearer \$TOKEN" \\
         -H 'content-type: application/json' -d '{"time_control":"3+0","mode":"rated"}'
  Ctrl-C stops everything.

TXT
else
  echo "the API did not become ready; see the logs above" >&2
fi
wait
