#!/usr/bin/env bash
# Runs a command with Node 24 (the active LTS) first on PATH.
#
#   bash infra/node24.sh <command> [args…]   e.g. bash infra/node24.sh node -v
#   bash infra/node24.sh --bin-dir           prints the directory that holds Node 24's `node`
#
# Uses the machine's `node` when it is 24 or newer. Otherwise installs Node 24 from the npm
# registry's `node` package into .local/node24 (git-ignored) once, and uses that binary:
# no global install, the system `node` is left as it is.
set -euo pipefail

want=24
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$root/.local/node24"

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

bin=""
if command -v node >/dev/null && [ "$(major node)" -ge "$want" ]; then
  bin=$(dirname "$(command -v node)")
elif [ -x "$dir/node_modules/.bin/node" ] && [ "$(major "$dir/node_modules/.bin/node")" -ge "$want" ]; then
  bin="$dir/node_modules/.bin"
else
  command -v npm >/dev/null || { echo "node24: no npm to install Node $want with; install Node $want (https://nodejs.org) and retry" >&2; exit 1; }
  mkdir -p "$dir"
  (
    # one install at a time when several scripts start together
    flock 9
    if ! [ -x "$dir/node_modules/.bin/node" ]; then
      echo "node24: $(node -v 2>/dev/null || echo 'no node') is older than Node $want; installing node@$want from the npm registry into .local/node24" >&2
      npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "node@$want" >&2
    fi
  ) 9>"$dir.lock"
  bin="$dir/node_modules/.bin"
  [ "$(major "$bin/node")" -ge "$want" ] || { echo "node24: the installed node in $bin is not Node $want; remove .local/node24 and retry" >&2; exit 1; }
fi

if [ "${1:-}" = "--bin-dir" ]; then
  echo "$bin"
  exit 0
fi
[ $# -gt 0 ] || { echo "usage: bash infra/node24.sh <command> [args…] | --bin-dir" >&2; exit 2; }
PATH="$bin:$PATH" exec "$@"
