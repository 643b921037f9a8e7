#!/usr/bin/env bash
# Makes PostgreSQL and Redis available for the service and its tests.
#
#   bash infra/services.sh [--quiet] [--browser]
#
# - Uses DATABASE_URL / REDIS_URL when they answer.
# - Otherwise starts local instances on the URL's port, with data under .local/
#   (git-ignored), installing the Debian packages first when run as root and they
#   are missing.
# - Creates the databases the service and the tests use (DATABASE_URL's and
#   TEST_DATABASE_URL's) when they do not exist.
# - --browser (pnpm test): also Chromium, which the API reference page's test runs headless
#   (installed as root when missing; CHROMIUM_PATH points at another one).
# Idempotent: running it again changes nothing and says so.
set -euo pipefail

quiet=0
browser=0
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --browser) browser=1 ;;
    *) echo "services: unknown option $arg (use --quiet, --browser)" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "services: $*"; }
die() { echo "services: ERROR: $*" >&2; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data="$root/.local"
mkdir -p "$data"

DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/matchmaking}
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/matchmaking_test}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

# --- URL parsing (scheme://[user[:pass]@]host[:port][/db]) -----------------------------
url_host() { local r=${1#*://}; r=${r#*@}; r=${r%%/*}; echo "${r%%:*}"; }
url_port() { local r=${1#*://}; r=${r#*@}; r=${r%%/*}; [[ $r == *:* ]] && echo "${r##*:}" || echo "$2"; }
url_db() { local r=${1#*://}; r=${r#*/}; r=${r%%\?*}; echo "$r"; }
url_user() { local r=${1#*://}; [[ $r == *@* ]] && { r=${r%%@*}; echo "${r%%:*}"; } || echo postgres; }

is_local() { [[ $1 == 127.* || $1 == localhost || $1 == ::1 ]]; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    die "$1 is not installed and this is not root. Install it (Debian: sudo apt-get install -y $1) or set ${2:-the URL} to one that is running."
  fi
  say "installing the Debian package $1"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

# --- PostgreSQL -------------------------------------------------------------------------
pg_host=$(url_host "$DATABASE_URL"); pg_port=$(url_port "$DATABASE_URL" 5432); pg_user=$(url_user "$DATABASE_URL")

pg_up() {
  if command -v pg_isready >/dev/null; then pg_isready -q -h "$pg_host" -p "$pg_port"; else (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null; fi
}

if pg_up; then
  say "PostgreSQL is running at $pg_host:$pg_port"
else
  is_local "$pg_host" || die "PostgreSQL at $pg_host:$pg_port does not answer and is not local: start it or fix DATABASE_URL."
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$pg_bin" ]; then apt_install postgresql DATABASE_URL; pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); fi
  pgdata="$data/pg"
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    # initdb/pg_ctl refuse to run as root: run them as the postgres user, which must
    # be able to reach the data folder.
    as_pg=(runuser -u postgres --)
    if ! runuser -u postgres -- test -x "$data"; then
      pgdata="/var/lib/postgresql/matchmaking-$(echo "$root" | md5sum | cut -c1-8)"
      say "postgres user cannot reach $data; using $pgdata for PostgreSQL data"
    fi
    mkdir -p "$pgdata"; chown postgres:postgres "$pgdata"; chmod 700 "$pgdata"
  fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    say "initialising a PostgreSQL cluster in $pgdata"
    "${as_pg[@]}" "$pg_bin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  say "starting PostgreSQL on $pg_host:$pg_port (data: $pgdata)"
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k /tmp -c max_connections=200" start >/dev/null \
    || die "PostgreSQL did not start; see $pgdata/server.log"
  pg_up || die "PostgreSQL started but does not answer on $pg_host:$pg_port"
fi

ensure_db() {
  local url=$1 db; db=$(url_db "$url")
  [ -n "$db" ] || return 0
  command -v psql >/dev/null || { say "psql not found; assuming database $db exists"; return 0; }
  if psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
    say "database $db exists"
  else
    psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -qc "create database \"$db\"" >/dev/null 2>&1 \
      || psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1 \
      || die "could not create database $db"
    say "created database $db"
  fi
}
ensure_db "$DATABASE_URL"
ensure_db "$TEST_DATABASE_URL"

# --- Redis ------------------------------------------------------------------------------
rd_host=$(url_host "$REDIS_URL"); rd_port=$(url_port "$REDIS_URL" 6379)
redis_up() {
  if command -v redis-cli >/dev/null; then [ "$(redis-cli -h "$rd_host" -p "$rd_port" ping 2>/dev/null)" = PONG ]; else (exec 3<>"/dev/tcp/$rd_host/$rd_port") 2>/dev/null; fi
}
if redis_up; then
  say "Redis is running at $rd_host:$rd_port"
else
  is_local "$rd_host" || die "Redis at $rd_host:$rd_port does not answer and is not local: start it or fix REDIS_URL."
  command -v redis-server >/dev/null || apt_install redis-server REDIS_URL
  mkdir -p "$data/redis"
  say "starting Redis on $rd_host:$rd_port (data: $data/redis)"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$rd_port" --dir "$data/redis" \
    --logfile "$data/redis/redis.log" --pidfile "$data/redis/redis.pid" \
    --appendonly yes --maxmemory-policy noeviction >/dev/null
  for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
  redis_up || die "Redis did not start; see $data/redis/redis.log"
fi

# --- Chromium (tests only) ---------------------------------------------------------------
if [ "$browser" = 1 ] && [ -z "${CHROMIUM_PATH:-}" ] && ! [ -x /usr/bin/chromium ]; then
  apt_install chromium CHROMIUM_PATH
fi

say "ready: DATABASE_URL=$DATABASE_URL TEST_DATABASE_URL=$TEST_DATABASE_URL REDIS_URL=$REDIS_URL"
