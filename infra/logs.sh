# How infra/start.sh shows its processes' logs; sourced by it (and by infra/test/logs.int.spec.ts).
#
#   LOG_FORMAT=pretty  readable, coloured lines (pino-pretty) prefixed with the process name —
#                      the default when stdout is a terminal; NO_COLOR=1 drops the colours
#   LOG_FORMAT=json    one JSON object per line with the process name added as "process"
#                      (a file, a pipe, a log shipper) — the default otherwise; lines that are
#                      not JSON (a crash's stack trace) are prefixed with "[name] "
if [ -z "${LOG_FORMAT:-}" ]; then
  if [ -t 1 ]; then LOG_FORMAT=pretty; else LOG_FORMAT=json; fi
fi
case "$LOG_FORMAT" in
  pretty | json) ;;
  *) echo "LOG_FORMAT must be pretty or json, not \"$LOG_FORMAT\"" >&2; exit 2 ;;
esac
_logs_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# format_logs <name>: stdin = one process's output, stdout = the formatted lines. It ignores
# SIGINT/SIGTERM (Ctrl-C reaches the whole process group) so the app's shutdown logs still show.
format_logs() {
  local name=$1
  trap '' INT TERM
  if [ "$LOG_FORMAT" = pretty ]; then
    node "$_logs_root/infra/pretty-logs.mjs" | sed -u "s/^/[$name] /"
  else
    sed -u -e "/^{/{s/^{/{\"process\":\"$name\",/;b}" -e "s/^/[$name] /"
  fi
}
