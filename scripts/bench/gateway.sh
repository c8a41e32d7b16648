#!/usr/bin/env bash
# Gateway overhead vs a bare actix-web handler (issue 3) -> docs/bench-gateway.md
#
#   bash scripts/bench/gateway.sh            # build, run, write docs/bench-gateway.md
#
# Builds `bench-server` in release, starts it with one worker pinned to core 0 (SERVER_CPU) on a
# fresh SQLite file (the gateway is wired with AuthFeature as in evogate; these requests carry no
# credentials), warms every endpoint up, then runs `wrk -t1 -c32 -d10s --latency` pinned to core
# 1 (CLIENT_CPU) against every endpoint in turn, BENCH_ROUNDS times (A,B,C,..,A,B,C,..), and
# writes the medians and the ratios to the bare handlers into docs/bench-gateway.md.
#
# Endpoints: bare `/bare/json` (HttpResponse::Ok().json) and `/bare/jsv` (jsv::to_string) vs the
# gateway's `BenchRecords` op returning the same ten records (~730 B JSON) via
# `/json/reply/BenchRecords`, `/api/BenchRecords`, `GET /bench/records` (JSON) and
# `/jsv/reply/BenchRecords`, `/bench/records?format=jsv` (JSV).
# Goals: gateway JSON >= 0.95x bare JSON rps; gateway JSV >= 0.9x bare JSV rps.
# Knobs: see scripts/bench/lib.sh (BENCH_ROUNDS, BENCH_DURATION, BENCH_PORT, ...), plus
# BENCH_DOC (default docs/bench-gateway.md) and BENCH_CONNS (default 32).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNS="${BENCH_CONNS:-32}"
DOC="${BENCH_DOC:-$REPO_ROOT/docs/bench-gateway.md}"
RESULTS="$BENCH_OUT/gateway-$(date -u +%Y%m%dT%H%M%S).jsonl"
DB="$BENCH_OUT/gateway.db"

build_bench
rm -f "$DB" "$DB-wal" "$DB-shm"
start_server "$DB"

NAMES=(bare-json gw-json-reply gw-api gw-rest-json bare-jsv gw-jsv-reply gw-rest-jsv)
declare -A PATHS=(
  [bare-json]="/bare/json"
  [gw-json-reply]="/json/reply/BenchRecords"
  [gw-api]="/api/BenchRecords"
  [gw-rest-json]="/bench/records"
  [bare-jsv]="/bare/jsv"
  [gw-jsv-reply]="/jsv/reply/BenchRecords"
  [gw-rest-jsv]="/bench/records?format=jsv"
)

SIZES=""
for n in "${NAMES[@]}"; do
  code="$(curl -sS -o /dev/null -w '%{http_code}' "$BASE_URL${PATHS[$n]}")"
  [[ "$code" == 200 ]] || { log "$n answered $code"; exit 1; }
  SIZES+="| \`${PATHS[$n]}\` | $(size_of "$BASE_URL${PATHS[$n]}") |"$'\n'
done
log "warm-up"
for n in "${NAMES[@]}"; do warm "$CONNS" "$BASE_URL${PATHS[$n]}"; done
RSS_BEFORE="$(rss_kb "$SERVER_PID")"
for r in $(seq 1 "$BENCH_ROUNDS"); do
  log "round $r"
  for n in "${NAMES[@]}"; do
    bench_run "$RESULTS" "$n" "$r" "$CONNS" "$BENCH_DURATION" "$BASE_URL${PATHS[$n]}"
  done
done
RSS_AFTER="$(rss_kb "$SERVER_PID")"

LABELS=()
for n in "${NAMES[@]}"; do LABELS+=(--label "$n=\`${PATHS[$n]}\`"); done
TABLE="$(python3 "$BENCH_DIR/summarize.py" "$RESULTS" "${LABELS[@]}" \
  --compare gw-json-reply:bare-json:0.95 --compare gw-api:bare-json:0.95 \
  --compare gw-rest-json:bare-json:0.95 --compare gw-jsv-reply:bare-jsv:0.9 \
  --compare gw-rest-jsv:bare-jsv:0.9)"

{
  header_md "Gateway overhead vs a bare actix-web handler" \
    "Issue 3. Script: \`bash scripts/bench/gateway.sh\` (method at its top). Raw results: \`${RESULTS#"$REPO_ROOT"/}\`."
  echo "- Connections: $CONNS keep-alive. Server RSS: ${RSS_BEFORE} kB after warm-up, ${RSS_AFTER} kB after the rounds."
  echo
  echo "## Results"
  echo
  echo "$TABLE"
  echo
  echo "Response sizes (one request each):"
  echo
  echo "| path | size |"
  echo "|---|---|"
  printf '%s' "$SIZES"
  notes_of "$DOC"
} >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
log "wrote $DOC"
cat "$DOC" >&2
