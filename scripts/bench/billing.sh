#!/usr/bin/env bash
# Durable NewBillable inserts and ListUsageRecords over 1M billables (issue 5) -> docs/bench-billing.md
#
#   bash scripts/bench/billing.sh
#
# Seeds a fresh SQLite file with `bench-server seed` (one account, one customer, SEED_CALLS
# completed unbilled calls for NewBillable and SEED_BILLABLES billed billables with their calls in
# 2026-10, the per-day roll-up `usage_daily` recomputed with one INSERT ... SELECT ... GROUP BY),
# starts bench-server --timing (one worker, core 0; the store runs WAL + synchronous=FULL with its
# group-committing writer thread), signs in once (session cookie `ss-id`), and then:
#
# 1. Inserts: interleaved rounds of `wrk -t1 -c64 -d10s --latency` (core 1) against the bare
#    handler GET /bare/json and POST /json/reply/NewBillable (lua/newbillable.lua: a unique callSid
#    per request, counting up, never reused across runs). Afterwards the billables created are
#    counted in SQLite and compared with the 204 responses wrk received.
#    Goal: NewBillable >= 0.2x bare rps, every 204 durable (acknowledged after its COMMIT).
# 2. Usage: interleaved rounds of `wrk -c32` against /bare/json and GET
#    /billing/usage?accountId=..&startDate=2026-10-01&endDate=2026-10-31 (ListUsageRecords over the
#    1M billables' month). Server time = the bench-server --timing middleware (time from the parsed
#    request entering the app to the serialized response leaving it, histogram read from
#    /bench/stats); also a 1-connection run for client-side latency.
#    Goals: server-time p99 <= 2 ms; >= 0.5x bare rps.
# Knobs: scripts/bench/lib.sh, plus BENCH_DOC (default docs/bench-billing.md), SEED_CALLS
# (default 2000000: three 10 s rounds at 30k inserts/s plus warm-up must not run out of calls;
# a run with non-2xx answers is marked INVALID), SEED_BILLABLES (default 1000000), SEED_ANALYZE=1
# (run ANALYZE after seeding; the store never does), INSERT_CONNS (64), USAGE_CONNS (32).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOC="${BENCH_DOC:-$REPO_ROOT/docs/bench-billing.md}"
SEED_CALLS="${SEED_CALLS:-2000000}"
SEED_BILLABLES="${SEED_BILLABLES:-1000000}"
INSERT_CONNS="${INSERT_CONNS:-64}"
USAGE_CONNS="${USAGE_CONNS:-32}"
STAMP="$(date -u +%Y%m%dT%H%M%S)"
INS="$BENCH_OUT/billing-insert-$STAMP.jsonl"
USG="$BENCH_OUT/billing-usage-$STAMP.jsonl"
SRV="$BENCH_OUT/billing-servertime-$STAMP.jsonl"
DB="${BILLING_DB:-$BENCH_OUT/billing.db}"
USER_NAME=bench
PASSWORD=bench-password

build_bench
log "seeding $DB: $SEED_CALLS calls, $SEED_BILLABLES billables"
SEED="$(taskset -c "$SERVER_CPU" "$BENCH_BIN" seed --db "$DB" --calls "$SEED_CALLS" --billables "$SEED_BILLABLES" --force ${SEED_ANALYZE:+--analyze})"
log "seeded: $SEED"
ACCOUNT="$(jq -r .accountId <<<"$SEED")"
CUSTOMER="$(jq -r .customerId <<<"$SEED")"
USTART="$(jq -r .usageStart <<<"$SEED")"
UEND="$(jq -r .usageEnd <<<"$SEED")"
DB_MB="$(du -m "$DB" | cut -f1)"

start_server "$DB" --timing --user "$USER_NAME" --password "$PASSWORD"
SID="$(login "$USER_NAME" "$PASSWORD" | jq -r .sessionId)"
[[ -n "$SID" && "$SID" != null ]] || { log "login failed"; exit 1; }
COOKIE="Cookie: ss-id=$SID"
USAGE_PATH="/billing/usage?accountId=$ACCOUNT&startDate=$USTART&endDate=$UEND"

# One NewBillable by hand (call #0): must be 204, and repeating it must stay 204 (idempotent).
NEXT=0
one="$(printf '{"accountId":"%s","customerId":"%s","callSid":"CA%032d"}' "$ACCOUNT" "$CUSTOMER" 0)"
for _ in 1 2; do
  code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$BASE_URL/json/reply/NewBillable" \
    -H 'Content-Type: application/json' -H "$COOKIE" -d "$one")"
  [[ "$code" == 204 ]] || { log "NewBillable answered $code"; exit 1; }
done
NEXT=1
TOTAL_204=1
TOTAL_SENT=1
USAGE_BODY="$(curl -fsS -H "$COOKIE" -H 'Accept: application/json' "$BASE_URL$USAGE_PATH")"
USAGE_SUMMARY="$(jq -r '[.[] | "\(.category): count \(.count), usage \(.usage) \(.usageUnit), price \(.price)"] | join("; ")' <<<"$USAGE_BODY")"
USAGE_BYTES="${#USAGE_BODY}"

# newbillable_run <results|-> <name> <round> <seconds>: one insert run starting at call #NEXT.
newbillable_run() {
  local file="$1" name="$2" round="$3" secs="$4" j
  j="$(wrk_json "$INSERT_CONNS" "$secs" "$BASE_URL" -s "$BENCH_DIR/lua/newbillable.lua" -H "$COOKIE" \
    -- "$NEXT" "$ACCOUNT" "$CUSTOMER")"
  [[ -n "$j" ]] || { log "wrk printed no summary for $name"; exit 1; }
  NEXT=$((NEXT + $(jq .sent <<<"$j")))
  TOTAL_204=$((TOTAL_204 + $(jq .n204 <<<"$j")))
  TOTAL_SENT=$((TOTAL_SENT + $(jq .sent <<<"$j")))
  if [[ "$file" != - ]]; then
    jq -c --arg name "$name" --argjson round "$round" --argjson conns "$INSERT_CONNS" \
      '. + {name: $name, round: $round, conns: $conns}' <<<"$j" >>"$file"
    jq -r --arg name "$name" --argjson round "$round" \
      '"  \($name) r\($round): \(.rps|floor) rps, p50 \(.p50_us) us, p99 \(.p99_us) us, 204s \(.n204), non2xx \(.non2xx)"' <<<"$j" >&2
  fi
}

stats_reset() { curl -fsS -o /dev/null "$BASE_URL/bench/stats?reset=1"; }
# stats_take <name> <round> <path>: records the server-time percentiles of <path> since the reset.
stats_take() {
  curl -fsS "$BASE_URL/bench/stats?reset=1" | jq -c --arg p "$3" --arg name "$1" --argjson round "$2" \
    '.[$p] + {name: $name, round: $round}' >>"$SRV"
}

log "warm-up"
warm "$INSERT_CONNS" "$BASE_URL/bare/json"
newbillable_run - warm 0 "$BENCH_WARMUP"
warm "$USAGE_CONNS" "$BASE_URL$USAGE_PATH" -H "$COOKIE"

log "inserts: $BENCH_ROUNDS rounds"
for r in $(seq 1 "$BENCH_ROUNDS"); do
  bench_run "$INS" bare-json "$r" "$INSERT_CONNS" "$BENCH_DURATION" "$BASE_URL/bare/json"
  stats_reset
  newbillable_run "$INS" new-billable "$r" "$BENCH_DURATION"
  stats_take new-billable "$r" /json/reply/NewBillable
done
sleep 2
COUNTS="$(taskset -c "$CLIENT_CPU" "$BENCH_BIN" count --db "$DB")"
ROWS="$(jq .insertedBillables <<<"$COUNTS")"
CONSISTENT="$(jq .usageDailyConsistent <<<"$COUNTS")"
MONTHLY="$(jq .usageMonthlyConsistent <<<"$COUNTS")"
log "rows $ROWS, 204s $TOTAL_204, sent $TOTAL_SENT, usage_daily consistent: $CONSISTENT"

log "usage: $BENCH_ROUNDS rounds"
for r in $(seq 1 "$BENCH_ROUNDS"); do
  bench_run "$USG" bare-json "$r" "$USAGE_CONNS" "$BENCH_DURATION" "$BASE_URL/bare/json"
  stats_reset
  bench_run "$USG" usage "$r" "$USAGE_CONNS" "$BENCH_DURATION" "$BASE_URL$USAGE_PATH" -H "$COOKIE"
  stats_take usage "$r" /billing/usage
done
stats_reset
bench_run "$USG" usage-1conn 1 1 "$BENCH_DURATION" "$BASE_URL$USAGE_PATH" -H "$COOKIE"
stats_take usage-1conn 1 /billing/usage
RSS_END="$(rss_kb "$SERVER_PID")"

INS_TABLE="$(python3 "$BENCH_DIR/summarize.py" "$INS" \
  --label "bare-json=\`GET /bare/json\` (bare actix, baseline)" \
  --label "new-billable=\`POST /json/reply/NewBillable\` (session cookie, durable)" \
  --compare new-billable:bare-json:0.2)"
USG_TABLE="$(python3 "$BENCH_DIR/summarize.py" "$USG" \
  --label "bare-json=\`GET /bare/json\` (bare actix, baseline)" \
  --label "usage=\`GET /billing/usage\` ListUsageRecords, one account-month of 1M billables" \
  --label "usage-1conn=same, 1 connection (client-side latency ≈ server time + loopback)" \
  --compare usage:bare-json:0.5)"
SRV_TABLE="$(jq -r '"| \(.name) | \(.round) | \(.count) | \(.p50_us) µs | \(.p90_us) µs | \(.p99_us) µs | \(.p999_us) µs | \(.max_us) µs |"' "$SRV")"
USAGE_P99_MAX="$(jq -s '[.[] | select(.name == "usage") | .p99_us] | max' "$SRV")"
if (( USAGE_P99_MAX <= 2000 )); then USAGE_VERDICT=met; else USAGE_VERDICT=MISSED; fi
if [[ "$ROWS" == "$TOTAL_204" ]]; then
  ROWS_TXT="**rows == 204 responses** ($ROWS)"
else
  ROWS_TXT="rows $ROWS vs 204 responses $TOTAL_204 (difference $((ROWS - TOTAL_204)); requests sent $TOTAL_SENT: a positive difference up to the connections in flight when each wrk run stopped is requests the server committed after wrk stopped reading, a negative one would be lost acknowledged writes)"
fi

{
  header_md "Billing: durable NewBillable and ListUsageRecords over 1M billables" \
    "Issue 5. Script: \`bash scripts/bench/billing.sh\` (method at its top). Raw results: \`${INS#"$REPO_ROOT"/}\`, \`${USG#"$REPO_ROOT"/}\`, \`${SRV#"$REPO_ROOT"/}\`."
  echo "- Data: \`bench-server seed\` with $SEED_CALLS calls for NewBillable and $SEED_BILLABLES billables in $USTART..$UEND (with their calls), roll-up \`usage_daily\` recomputed in the same transaction; database $DB_MB MB. Seed: \`$SEED\`."
  echo "- Store: billing::SqliteStore as evogate opens it: WAL, \`synchronous=FULL\`, one writer thread committing whatever queued up together (group commit, up to 256 per transaction); NewBillable is answered 204 only after the COMMIT holding its row returned. The server runs with \`--timing\` (a timing middleware on every route, bare ones included)."
  echo "- Auth: one POST /auth/credentials, then \`Cookie: ss-id\` on every request (session cache hit)."
  echo
  echo "## NewBillable at $INSERT_CONNS connections"
  echo
  echo "$INS_TABLE"
  echo
  echo "Durability check: billables created by the runs (warm-up and one manual call included) counted in SQLite afterwards: $ROWS_TXT. \`usage_daily\` equal to the roll-up recomputed from \`billables\`: $CONSISTENT; \`usage_monthly\` equal to \`usage_daily\` by month: $MONTHLY (null: no such table)."
  echo
  echo "## ListUsageRecords at $USAGE_CONNS connections"
  echo
  echo "$USG_TABLE"
  echo
  echo "Response: $USAGE_BYTES B of JSON, $(jq length <<<"$USAGE_BODY") usage records ($USAGE_SUMMARY)."
  echo
  echo "## Server time (timing middleware; histogram with 1 µs buckets below 1 ms, 10 µs above)"
  echo
  echo "| run | round | requests | p50 | p90 | p99 | p99.9 | max |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  echo "$SRV_TABLE"
  echo
  echo "ListUsageRecords server-time p99, worst round at $USAGE_CONNS connections: **${USAGE_P99_MAX} µs** (goal ≤ 2 ms: $USAGE_VERDICT). Server RSS at the end: $((RSS_END / 1024)) MB."
  notes_of "$DOC"
} >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
log "wrote $DOC"
cat "$DOC" >&2
