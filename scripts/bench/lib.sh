# Shared helpers for scripts/bench/*.sh (sourced, not run).
#
# Environment knobs (all optional):
#   BENCH_PORT      port of bench-server (default 8099)
#   BENCH_ROUNDS    interleaved A/B rounds per endpoint (default 3)
#   BENCH_DURATION  seconds per wrk run (default 10)
#   BENCH_WARMUP    seconds of warm-up per endpoint (default 2)
#   BENCH_OUT       where raw results go (default target/bench-results)
#   SERVER_CPU / CLIENT_CPU   cores for taskset (default 0 / 1)
#   BENCH_NO_BUILD=1          skip `cargo build --release -p bench`
#   BENCH_BIN       the bench-server binary (default target/release/bench-server; point it at a
#                   copy to keep one binary across runs, the target dir being shared)

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
BENCH_PORT="${BENCH_PORT:-8099}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
BENCH_DURATION="${BENCH_DURATION:-10}"
BENCH_WARMUP="${BENCH_WARMUP:-2}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
BENCH_BIN="${BENCH_BIN:-$TARGET_DIR/release/bench-server}"
BENCH_OUT="${BENCH_OUT:-$TARGET_DIR/bench-results}"
BASE_URL="http://127.0.0.1:$BENCH_PORT"
SERVER_PID=""

mkdir -p "$BENCH_OUT"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

build_bench() {
  if [[ "${BENCH_NO_BUILD:-}" != 1 ]]; then
    log "cargo build --release -p bench"
    (cd "$REPO_ROOT" && cargo build --release -p bench)
  fi
  [[ -x "$BENCH_BIN" ]] || { log "missing $BENCH_BIN"; exit 1; }
}

# start_server <db> [extra serve args...]: bench-server pinned to SERVER_CPU; waits for /health.
start_server() {
  local db="$1"; shift
  taskset -c "$SERVER_CPU" "$BENCH_BIN" serve --addr "127.0.0.1:$BENCH_PORT" --db "$db" "$@" \
    >"$BENCH_OUT/server.log" 2>&1 &
  SERVER_PID=$!
  trap stop_server EXIT
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$BASE_URL/health" 2>/dev/null; then
      log "bench-server pid $SERVER_PID on core $SERVER_CPU, $BASE_URL"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "bench-server exited:"; cat "$BENCH_OUT/server.log" >&2; exit 1
    fi
    sleep 0.1
  done
  log "bench-server did not answer /health"; exit 1
}

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

CLK_TCK="$(getconf CLK_TCK)"
# cpu_ticks <pid>: user + system CPU of the process (all threads), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# wrk_json <conns> <seconds> <url> [wrk options...] [-- script args...]: runs wrk pinned to
# CLIENT_CPU with one thread and --latency, and prints its WRKJSON line (the lua scripts print
# it; lua/report.lua is used when no -s is given).
wrk_json() {
  local conns="$1" secs="$2" url="$3"; shift 3
  local opts=() script_args=() has_script=0 seen_dd=0 a
  for a in "$@"; do
    if [[ $seen_dd == 1 ]]; then script_args+=("$a"); continue; fi
    if [[ "$a" == "--" ]]; then seen_dd=1; continue; fi
    [[ "$a" == "-s" ]] && has_script=1
    opts+=("$a")
  done
  local args=(-t1 "-c$conns" "-d${secs}s" --latency)
  if [[ $has_script == 0 ]]; then args+=(-s "$BENCH_DIR/lua/report.lua"); fi
  local out c0=0 c1=0
  if [[ -n "$SERVER_PID" ]]; then c0="$(cpu_ticks "$SERVER_PID")"; fi
  if ((${#script_args[@]})); then
    out="$(taskset -c "$CLIENT_CPU" wrk "${args[@]}" "${opts[@]}" "$url" -- "${script_args[@]}")"
  else
    out="$(taskset -c "$CLIENT_CPU" wrk "${args[@]}" "${opts[@]}" "$url")"
  fi
  if [[ -n "$SERVER_PID" ]]; then c1="$(cpu_ticks "$SERVER_PID")"; fi
  printf '%s\n' "$out" >>"$BENCH_OUT/wrk-raw.log"
  # Server CPU time per completed request (user + system, all threads, during the run): robust
  # to other load on the machine, unlike requests/s.
  printf '%s\n' "$out" | sed -n 's/^WRKJSON //p' | tail -n1 |
    jq -c --argjson ticks "$((c1 - c0))" --argjson hz "$CLK_TCK" \
      '. + {server_cpu_s: ($ticks / $hz), cpu_us_per_req: (if .requests > 0 then $ticks / $hz * 1e6 / .requests else 0 end)}'
}

# bench_run <results.jsonl> <name> <round> <conns> <seconds> <url> [wrk args...]: one measured
# run appended to the results file as JSON with its name and round.
bench_run() {
  local file="$1" name="$2" round="$3" conns="$4" secs="$5" url="$6"; shift 6
  local j
  j="$(wrk_json "$conns" "$secs" "$url" "$@")"
  [[ -n "$j" ]] || { log "wrk printed no summary for $name"; exit 1; }
  printf '%s\n' "$j" | jq -c --arg name "$name" --argjson round "$round" --argjson conns "$conns" \
    '. + {name: $name, round: $round, conns: $conns}' >>"$file"
  printf '%s\n' "$j" | jq -r --arg name "$name" --argjson round "$round" \
    '"  \($name) r\($round): \(.rps|floor) rps, p50 \(.p50_us) us, p99 \(.p99_us) us, non2xx \(.non2xx), server CPU \(.cpu_us_per_req*10|floor/10) us/req"' >&2
}

# warm <conns> <url> [wrk args...]
warm() {
  local conns="$1" url="$2"; shift 2
  wrk_json "$conns" "$BENCH_WARMUP" "$url" "$@" >/dev/null
}

# login <user> <password>: prints the AuthenticateResponse JSON of POST /auth/credentials.
login() {
  curl -fsS -X POST "$BASE_URL/auth/credentials" -H 'Content-Type: application/json' \
    -H 'Accept: application/json' \
    -d "{\"userName\":\"$1\",\"password\":\"$2\"}"
}

# size_of <url> [curl args...]: "body bytes / header bytes" of one response.
size_of() {
  local url="$1"; shift
  curl -sS -o /dev/null -w '%{size_download} B body + %{size_header} B headers' "$@" "$url"
}

commit_desc() {
  local c
  c="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | head -n1)" ]]; then
    c="$c + uncommitted work in progress"
  fi
  printf '%s' "$c"
}

machine_desc() {
  local cpu
  cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  printf '%s vCPU (%s), %s, Linux %s' "$(nproc)" "$cpu" \
    "$(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo)" "$(uname -r)"
}

# header_md <title> <issue>: the common preamble of a result file.
header_md() {
  cat <<EOF
# $1

$2

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(commit_desc); release build (\`cargo build --release -p bench\`, workspace profile: opt-level 3, line tables); binary built $(date -u -r "$BENCH_BIN" '+%H:%M UTC'), sha256 $(sha256sum "$BENCH_BIN" | cut -c1-12) (the target dir is shared: other builds may replace it between runs).
- Machine: $(machine_desc). Loopback only.
- Server: \`bench-server serve\` (crates/bench), one actix worker, pinned with \`taskset -c $SERVER_CPU\` (its blocking threads and the SQLite writer thread share that core).
- Load: wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}'), \`taskset -c $CLIENT_CPU wrk -t1 -cN -d${BENCH_DURATION}s --latency\`, ${BENCH_WARMUP} s warm-up per endpoint, then ${BENCH_ROUNDS} rounds in which every endpoint runs once, in order (A, B, C, ..., A, B, C, ...).
- Shared machine: load average at the start $(cut -d' ' -f1-3 /proc/loadavg) (other engineers' builds run on the same 2 cores, so absolute numbers vary run to run; the interleaved rounds and same-run ratios are what to compare).
- Figures: the median over rounds of requests/s, p50 and p99 (wrk's latency, client side, includes queueing at N connections); ratio = median rps / median rps of the baseline in the same run; "paired" = the median over rounds of rps / the baseline's rps in the same round (steadier when the machine drifts between phases). "CPU/req" = the server process's user+system CPU time (/proc/<pid>/stat, all threads) during the run divided by the requests completed, and "CPU ratio" = baseline CPU/req ÷ this CPU/req: an estimate of the throughput ratio on a dedicated core, steadier than requests/s on this shared machine (though CPU per request also rises when the core is contended).
EOF
}

# notes_of <doc>: the hand-written part of an existing result file (everything from the line
# `<!-- notes: kept by the scripts -->` on), so that re-running a script keeps the analysis.
NOTES_MARK='<!-- notes: kept by the scripts -->'
notes_of() {
  if [[ -f "$1" ]] && grep -qF "$NOTES_MARK" "$1"; then
    echo
    sed -n "/$NOTES_MARK/,\$p" "$1"
  fi
}
