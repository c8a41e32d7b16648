#!/usr/bin/env bash
# Instruction counts per request for ListUsageRecords and NewBillable (issue 5 profiling).
#
#   bash scripts/bench/profile-billing.sh [N]     # N requests per operation, default 500
#
# Seeds a database like scripts/bench/billing.sh (SEED_CALLS, default 20000 calls; SEED_BILLABLES,
# default 1000000 billables; SEED_ANALYZE=1 runs ANALYZE after seeding), runs bench-server under `valgrind --tool=callgrind`, signs in, and
# sends N sequential keep-alive requests per operation with one `curl -K` each (GET /bare/json,
# GET /billing/usage for the seeded month, POST /json/reply/NewBillable with distinct calls),
# dumping the counters after each. Writes per-operation `*.inclusive.txt`, `*.self.txt` and a
# summary table into $BENCH_OUT/profile-billing-*/. Instruction counts include the blocking
# threads and the SQLite writer thread (user space; fsync time is not an instruction count).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${1:-500}"
OUT="$BENCH_OUT/profile-billing-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$OUT"
DB="$OUT/billing.db"
build_bench
SEED="$("$BENCH_BIN" seed --db "$DB" --calls "${SEED_CALLS:-20000}" --billables "${SEED_BILLABLES:-1000000}" --force ${SEED_ANALYZE:+--analyze})"
ACCOUNT="$(jq -r .accountId <<<"$SEED")"
CUSTOMER="$(jq -r .customerId <<<"$SEED")"
USAGE_PATH="/billing/usage?accountId=$ACCOUNT&startDate=$(jq -r .usageStart <<<"$SEED")&endDate=$(jq -r .usageEnd <<<"$SEED")"

valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" --dump-instr=no \
  "$BENCH_BIN" serve --addr "127.0.0.1:$BENCH_PORT" --db "$DB" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
trap stop_server EXIT
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$BASE_URL/health" 2>/dev/null && break
  sleep 0.2
done
SID="$(login bench bench-password | jq -r .sessionId)"
COOKIE="Cookie: ss-id=$SID"

# One warm-up request per operation (call #0 for NewBillable), then N measured ones.
curl -fsS -o /dev/null "$BASE_URL/bare/json"
curl -fsS -o /dev/null -H "$COOKIE" "$BASE_URL$USAGE_PATH"
curl -fsS -o /dev/null -H "$COOKIE" -H 'Content-Type: application/json' -X POST "$BASE_URL/json/reply/NewBillable" \
  -d "$(printf '{"accountId":"%s","customerId":"%s","callSid":"CA%032d"}' "$ACCOUNT" "$CUSTOMER" 0)"
callgrind_control --dump=startup "$SERVER_PID" >/dev/null

run() { # run <name> <curl config>
  callgrind_control --zero "$SERVER_PID" >/dev/null
  curl -fsS -K "$2" >/dev/null
  callgrind_control --dump="$1" "$SERVER_PID" >/dev/null
}
: >"$OUT/bare.curl"; : >"$OUT/usage.curl"; : >"$OUT/nb.curl"
echo "header = \"$COOKIE\"" >>"$OUT/usage.curl"
for i in $(seq 1 "$N"); do
  printf 'url = "%s/bare/json"\noutput = "/dev/null"\n' "$BASE_URL" >>"$OUT/bare.curl"
  printf 'url = "%s%s"\noutput = "/dev/null"\n' "$BASE_URL" "$USAGE_PATH" >>"$OUT/usage.curl"
  # `data` is global in a curl config unless each transfer is closed with `next`.
  printf 'header = "%s"\nheader = "Content-Type: application/json"\nurl = "%s/json/reply/NewBillable"\noutput = "/dev/null"\ndata = "{\\"accountId\\":\\"%s\\",\\"customerId\\":\\"%s\\",\\"callSid\\":\\"CA%032d\\"}"\nnext\n' \
    "$COOKIE" "$BASE_URL" "$ACCOUNT" "$CUSTOMER" "$i" >>"$OUT/nb.curl"
done
sed -i '$d' "$OUT/nb.curl" # no `next` after the last transfer
run bare-json "$OUT/bare.curl"
run usage "$OUT/usage.curl"
run new-billable "$OUT/nb.curl"
sleep 1
stop_server

{
  echo "| operation | instructions per request |"
  echo "|---|---:|"
  for f in "$OUT"/cg.out.*; do
    trig="$(sed -n 's/^desc: Trigger: dump //p' "$f" | head -n1)"
    [[ -n "$trig" && "$trig" != startup ]] || continue
    total="$(sed -n 's/^summary: //p' "$f" | awk '{print $1}')"
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | head -n 120 >"$OUT/$trig.inclusive.txt" || true
    python3 "$BENCH_DIR/cgdiff.py" self "$f" "$N" 60 >"$OUT/$trig.self.txt" || true
    echo "| $trig | $((total / N)) |"
  done
} | tee "$OUT/summary.md"
# The seeded database is ~600 MB; keep only the counts and annotations (PROFILE_KEEP_DB=1 keeps it).
[[ "${PROFILE_KEEP_DB:-}" == 1 ]] || rm -f "$DB" "$DB-wal" "$DB-shm"
log "callgrind dumps and annotations in $OUT"
