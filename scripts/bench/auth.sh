#!/usr/bin/env bash
# Authentication cost and a login flood (issue 4) -> docs/bench-auth.md
#
#   bash scripts/bench/auth.sh
#
# 1. Per-request authentication. bench-server (one worker, core 0) on a fresh SQLite file with the
#    administrator `bench`; the script signs in once with POST /auth/credentials and then runs
#    `wrk -t1 -c32 -d10s --latency` (core 1), interleaved over BENCH_ROUNDS rounds, against:
#      A  GET /bench/records        BenchRecords, anonymous (no credentials), the baseline
#      B  GET /bench/records-auth   BenchRecordsAuth (authenticate) with `Cookie: ss-id=<id>`
#      C  same op with `Authorization: Bearer <bearerToken of the login>` (loopback is secure)
#      D  same op with `Authorization: Basic` (after the first request, served from the cache)
#    plus the bare actix handler for reference. Goal: B, C, D >= 0.9x A.
# 2. Login flood (run twice: on the server as configured, after the rounds above, and on a fresh
#    server started with MALLOC_MMAP_THRESHOLD_=131072, to show the glibc effect in the notes):
#    a. a burst of 200 concurrent `curl` logins (one POST each, all started at once), timing each;
#    b. a sustained flood: `wrk -c200` POSTing credentials for FLOOD_SECONDS (default 10), while
#       two 2-connection wrk probes (GET /health, GET /bench/records) measure the latency other
#       clients see; the same probes run before the flood for comparison.
#    During both, the server's VmRSS is sampled every 100 ms (/proc/<pid>/status). Goal: peak
#    RSS < 100 MB and the probes keep being answered.
# Knobs: scripts/bench/lib.sh, plus BENCH_DOC (default docs/bench-auth.md), FLOOD_SECONDS.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNS="${BENCH_CONNS:-32}"
DOC="${BENCH_DOC:-$REPO_ROOT/docs/bench-auth.md}"
FLOOD_SECONDS="${FLOOD_SECONDS:-10}"
STAMP="$(date -u +%Y%m%dT%H%M%S)"
RESULTS="$BENCH_OUT/auth-$STAMP.jsonl"
DB="$BENCH_OUT/auth.db"
USER_NAME=bench
PASSWORD=bench-password

build_bench
rm -f "$DB" "$DB-wal" "$DB-shm"
start_server "$DB" --user "$USER_NAME" --password "$PASSWORD"

LOGIN="$(login "$USER_NAME" "$PASSWORD")"
SID="$(jq -r .sessionId <<<"$LOGIN")"
TOKEN="$(jq -r .bearerToken <<<"$LOGIN")"
[[ -n "$SID" && "$SID" != null && -n "$TOKEN" && "$TOKEN" != null ]] || {
  log "login did not return sessionId and bearerToken: $LOGIN"; exit 1; }
BASIC="$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)"

NAMES=(anon bare-json session jwt basic)
declare -A PATHS=(
  [anon]="/bench/records" [bare-json]="/bare/json" [session]="/bench/records-auth"
  [jwt]="/bench/records-auth" [basic]="/bench/records-auth"
)
declare -A HDRS=(
  [anon]="X-Bench: anon" [bare-json]="X-Bench: bare" [session]="Cookie: ss-id=$SID"
  [jwt]="Authorization: Bearer $TOKEN" [basic]="Authorization: Basic $BASIC"
)
for n in "${NAMES[@]}"; do
  code="$(curl -sS -o /dev/null -w '%{http_code}' -H "${HDRS[$n]}" "$BASE_URL${PATHS[$n]}")"
  [[ "$code" == 200 ]] || { log "$n answered $code"; exit 1; }
done

log "warm-up"
for n in "${NAMES[@]}"; do warm "$CONNS" "$BASE_URL${PATHS[$n]}" -H "${HDRS[$n]}"; done
for r in $(seq 1 "$BENCH_ROUNDS"); do
  log "round $r"
  for n in "${NAMES[@]}"; do
    bench_run "$RESULTS" "$n" "$r" "$CONNS" "$BENCH_DURATION" "$BASE_URL${PATHS[$n]}" -H "${HDRS[$n]}"
  done
done
TABLE="$(python3 "$BENCH_DIR/summarize.py" "$RESULTS" \
  --label "anon=\`GET /bench/records\`, no credentials (baseline)" \
  --label "bare-json=\`GET /bare/json\` (bare actix, reference)" \
  --label "session=\`GET /bench/records-auth\`, \`Cookie: ss-id\`" \
  --label "jwt=\`GET /bench/records-auth\`, \`Authorization: Bearer\` JWT" \
  --label "basic=\`GET /bench/records-auth\`, \`Authorization: Basic\` (cached)" \
  --compare session:anon:0.9 --compare jwt:anon:0.9 --compare basic:anon:0.9)"

# ---- login flood -------------------------------------------------------------------------------
verdict() { if (( $1 < 102400 )); then echo met; else echo MISSED; fi; }
sample_rss() { # every 100 ms until killed: "<epoch ms> <VmRSS kB>"
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    printf '%s %s\n' "$(date +%s%3N)" "$(rss_kb "$SERVER_PID")"
    sleep 0.1
  done
}

# flood_suite <tag> <title>: the burst and the sustained flood against the running server;
# appends a markdown section to $FLOOD_MD.
flood_suite() {
  local tag="$1" title="$2"
  local rss_log="$BENCH_OUT/auth-rss-$tag-$STAMP.log" flood="$BENCH_OUT/auth-flood-$tag-$STAMP.jsonl"
  local burst="$BENCH_OUT/auth-burst-$tag-$STAMP.txt"
  local rss_idle t0 t1 f0 f1 burst_peak flood_peak rss_end sessions pids=() p j
  rss_idle="$(rss_kb "$SERVER_PID")"
  : >"$rss_log"; : >"$flood"; : >"$burst"
  sample_rss >>"$rss_log" &
  local sampler=$!

  log "[$tag] probes without a flood"
  for p in /health /bench/records; do
    j="$(wrk_json 2 "$FLOOD_SECONDS" "$BASE_URL$p")"
    jq -c --arg name "probe $p (no flood)" '. + {name: $name}' <<<"$j" >>"$flood"
  done

  log "[$tag] burst: 200 concurrent curl logins"
  t0="$(date +%s%3N)"
  for _ in $(seq 1 200); do
    taskset -c "$CLIENT_CPU" curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' \
      -X POST "$BASE_URL/auth/credentials" -H 'Content-Type: application/json' \
      -d "{\"userName\":\"$USER_NAME\",\"password\":\"$PASSWORD\"}" >>"$burst" 2>/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  t1="$(date +%s%3N)"
  burst_peak="$(awk -v a="$t0" -v b="$t1" '$1>=a && $1<=b+200 && $2>m {m=$2} END {print m+0}' "$rss_log")"
  local burst_status burst_lat
  burst_status="$(awk '{c[$1]++} END {for (k in c) printf "%s x%d ", k, c[k]}' "$burst")"
  burst_lat="$(awk '{print $2}' "$burst" | sort -n | awk '{a[NR]=$1} END {printf "min %.0f ms, p50 %.0f ms, p90 %.0f ms, max %.0f ms", a[1]*1000, a[int(NR*0.5)]*1000, a[int(NR*0.9)]*1000, a[NR]*1000}')"
  sleep 1

  log "[$tag] sustained flood: wrk -c200 logins for ${FLOOD_SECONDS}s with probes"
  local probe_secs=$((FLOOD_SECONDS - 2))
  local p1="$BENCH_OUT/probe1-$tag-$STAMP.log" p2="$BENCH_OUT/probe2-$tag-$STAMP.log" fl="$BENCH_OUT/auth-flood-wrk-$tag-$STAMP.log"
  f0="$(date +%s%3N)"
  taskset -c "$CLIENT_CPU" wrk -t1 -c200 "-d${FLOOD_SECONDS}s" --timeout 30s --latency \
    -s "$BENCH_DIR/lua/login.lua" "$BASE_URL/auth/credentials" -- "$USER_NAME" "$PASSWORD" >"$fl" &
  local flood_pid=$!
  sleep 1
  taskset -c "$CLIENT_CPU" wrk -t1 -c2 "-d${probe_secs}s" --latency -s "$BENCH_DIR/lua/report.lua" "$BASE_URL/health" >"$p1" &
  local pr1=$!
  taskset -c "$CLIENT_CPU" wrk -t1 -c2 "-d${probe_secs}s" --latency -s "$BENCH_DIR/lua/report.lua" "$BASE_URL/bench/records" >"$p2" &
  local pr2=$!
  wait "$pr1" "$pr2" "$flood_pid"
  f1="$(date +%s%3N)"
  sed -n 's/^WRKJSON //p' "$p1" | jq -c '. + {name: "probe /health (during the flood)"}' >>"$flood"
  sed -n 's/^WRKJSON //p' "$p2" | jq -c '. + {name: "probe /bench/records (during the flood)"}' >>"$flood"
  sed -n 's/^WRKJSON //p' "$fl" | jq -c '. + {name: "logins, wrk -c200 (the flood)"}' >>"$flood"
  sleep 1
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  flood_peak="$(awk -v a="$f0" -v b="$f1" '$1>=a && $1<=b+200 && $2>m {m=$2} END {print m+0}' "$rss_log")"
  rss_end="$(rss_kb "$SERVER_PID")"
  sessions="$(sqlite3 "file:$DB?mode=ro" 'SELECT COUNT(*) FROM auth_sessions' 2>/dev/null || echo '?')"
  {
    echo "### $title"
    echo
    echo "Raw: \`${flood#"$REPO_ROOT"/}\`, RSS samples \`${rss_log#"$REPO_ROOT"/}\`. Server RSS before the flood: $((rss_idle / 1024)) MB."
    echo
    echo "**Burst: 200 concurrent \`curl\` logins** (all started at once, one POST each): done in $((t1 - t0)) ms; statuses: ${burst_status}; login latency ${burst_lat}; **peak RSS $((burst_peak / 1024)) MB** (goal < 100 MB: $(verdict "$burst_peak"))."
    echo
    echo "**Sustained flood: \`wrk -t1 -c200 -d${FLOOD_SECONDS}s --timeout 30s\` POSTing credentials** (200 logins always in flight), two 2-connection probes running from second 1 to $((probe_secs + 1)); the same probes ran for ${FLOOD_SECONDS} s before the flood. **Peak RSS during the flood $((flood_peak / 1024)) MB** (goal < 100 MB: $(verdict "$flood_peak")); RSS afterwards $((rss_end / 1024)) MB; login sessions in the store: ${sessions}."
    echo
    echo "| run | requests | rps | p50 | p99 | max | non-2xx | socket errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    jq -r '"| \(.name) | \(.requests) | \(.rps|floor) | \(.p50_us/1000) ms | \(.p99_us/1000) ms | \(.max_us/1000) ms | \(.non2xx) | \(.connect_err + .read_err + .write_err + .timeouts) |"' "$flood"
    echo
  } >>"$FLOOD_MD"
}

FLOOD_MD="$BENCH_OUT/auth-flood-$STAMP.md"
: >"$FLOOD_MD"
flood_suite default "1. The server as configured (glibc malloc defaults), after the per-request rounds"

# The same flood against a fresh server whose glibc malloc keeps a fixed mmap threshold: argon2's
# 19 MiB blocks are then always mmapped and returned on free (see the notes below).
stop_server
rm -f "$DB" "$DB-wal" "$DB-shm"
MALLOC_MMAP_THRESHOLD_=131072 start_server "$DB" --user "$USER_NAME" --password "$PASSWORD"
login "$USER_NAME" "$PASSWORD" >/dev/null
flood_suite mmap "2. A fresh server started with MALLOC_MMAP_THRESHOLD_=131072 (fixed glibc mmap threshold)"

{
  header_md "Authentication cost and login flood" \
    "Issue 4. Script: \`bash scripts/bench/auth.sh\` (method at its top). Raw results: \`${RESULTS#"$REPO_ROOT"/}\` and, per flood, the files named below."
  echo "- Connections: $CONNS keep-alive. Credentials: one POST /auth/credentials before the rounds; its \`sessionId\` (the \`ss-id\` cookie) and \`bearerToken\` are replayed as wrk headers; Basic is \`bench:bench-password\` (verified by argon2 once, then from the Basic cache, TTL 2 min)."
  echo
  echo "## Per-request authentication vs the same op without authentication"
  echo
  echo "$TABLE"
  echo
  echo "## Login flood (argon2id m=19 MiB t=2 p=1; verifications behind a semaphore sized to the cores available: 1 here, the server being pinned to one core)"
  echo
  cat "$FLOOD_MD"
  notes_of "$DOC"
} >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
log "wrote $DOC"
cat "$DOC" >&2
