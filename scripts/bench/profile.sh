#!/usr/bin/env bash
# Instruction counts per request, bare handler vs gateway (issue 3 profiling) -> stdout and
# $BENCH_OUT/profile-*/ (callgrind files and annotations).
#
#   bash scripts/bench/profile.sh [N]        # N requests per endpoint, default 2000
#
# Runs bench-server under `valgrind --tool=callgrind` (one worker) on a fresh SQLite file and
# sends N sequential keep-alive requests per endpoint with one `curl -K` invocation per endpoint
# (curl reuses the connection). After each endpoint the counters are dumped and reset with
# `callgrind_control --dump`, so every dump holds exactly one endpoint's N requests (plus curl's
# connect). Prints instructions per request and the ratio to the bare handler of the same format,
# then writes per endpoint: `<name>.inclusive.txt` (callgrind_annotate --inclusive), `<name>.self.txt`
# (self cost per function, scripts/bench/cgdiff.py) and `<name>.vs-bare.txt` (self-cost increase
# over the bare handler of the same format); the table also goes to summary.md.
#
# Instruction counts are user space only (the kernel's loopback TCP work, the same for every
# endpoint, is not counted) and repeat exactly for the same binary and input, unlike wall-clock
# numbers on a shared 2-core VM (scripts/bench/gateway.sh measures those).
# Extra endpoints: PROFILE_PATHS="name=/path name2=/path2" (defaults below). Auth headers for
# /bench/records-auth: PROFILE_AUTH=1 signs in first and profiles session, JWT and Basic too.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${1:-2000}"
OUT="$BENCH_OUT/profile-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$OUT"
DB="$OUT/profile.db"
command -v valgrind >/dev/null || { log "valgrind is not installed"; exit 1; }

build_bench
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" --dump-instr=no \
  "$BENCH_BIN" serve --addr "127.0.0.1:$BENCH_PORT" --db "$DB" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
trap stop_server EXIT
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$BASE_URL/health" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null "$BASE_URL/health" || { log "server did not start"; cat "$OUT/server.log"; exit 1; }

DEFAULT_PATHS="bare-json=/bare/json gw-json-reply=/json/reply/BenchRecords gw-rest-json=/bench/records gw-api-json=/api/BenchRecords bare-jsv=/bare/jsv gw-jsv-reply=/jsv/reply/BenchRecords gw-rest-jsv=/bench/records?format=jsv health=/health"
read -r -a ENTRIES <<<"${PROFILE_PATHS:-$DEFAULT_PATHS}"

declare -A HDR=()
if [[ "${PROFILE_AUTH:-}" == 1 ]]; then
  L="$(login bench bench-password)"
  HDR[auth-session]="Cookie: ss-id=$(jq -r .sessionId <<<"$L")"
  HDR[auth-jwt]="Authorization: Bearer $(jq -r .bearerToken <<<"$L")"
  HDR[auth-basic]="Authorization: Basic $(printf bench:bench-password | base64 -w0)"
  ENTRIES+=(auth-session=/bench/records-auth auth-jwt=/bench/records-auth auth-basic=/bench/records-auth)
fi

# Start-up and sign-in go to their own dump.
callgrind_control --dump=startup "$SERVER_PID" >/dev/null

declare -A IR=()
ORDER=()
for e in "${ENTRIES[@]}"; do
  name="${e%%=*}" path="${e#*=}"
  cfg="$OUT/$name.curl"
  : >"$cfg"
  if [[ -n "${HDR[$name]:-}" ]]; then echo "header = \"${HDR[$name]}\"" >>"$cfg"; fi
  for _ in $(seq 1 "$N"); do
    printf 'url = "%s%s"\noutput = "/dev/null"\n' "$BASE_URL" "$path" >>"$cfg"
  done
  # One warm-up request (first-use allocations), then the measured batch in its own dump.
  curl -fsS -o /dev/null ${HDR[$name]:+-H "${HDR[$name]}"} "$BASE_URL$path"
  callgrind_control --zero "$SERVER_PID" >/dev/null
  curl -fsS -K "$cfg"
  callgrind_control --dump="$name" "$SERVER_PID" >/dev/null
  ORDER+=("$name")
done
sleep 1
stop_server

# Map dumps to names through their "cmd:"/"desc: Trigger" lines.
for f in "$OUT"/cg.out.*; do
  trig="$(sed -n 's/^desc: Trigger: dump //p' "$f" | head -n1)"
  [[ -n "$trig" ]] || continue
  total="$(sed -n 's/^summary: //p' "$f" | awk '{print $1}')"
  [[ -n "$total" ]] || total="$(sed -n 's/^totals: //p' "$f" | awk '{print $1}')"
  IR[$trig]="$total"
  callgrind_annotate --inclusive=yes "$f" 2>/dev/null | head -n 80 >"$OUT/$trig.inclusive.txt" || true
  python3 "$BENCH_DIR/cgdiff.py" self "$f" "$N" 60 >"$OUT/$trig.self.txt" || true
  cp "$f" "$OUT/$trig.callgrind"
done
for name in "${ORDER[@]}"; do
  case "$name" in
    bare-*) ;;
    *jsv*) python3 "$BENCH_DIR/cgdiff.py" diff "$OUT/bare-jsv.callgrind" "$OUT/$name.callgrind" "$N" 40 >"$OUT/$name.vs-bare.txt" 2>/dev/null || true ;;
    *) python3 "$BENCH_DIR/cgdiff.py" diff "$OUT/bare-json.callgrind" "$OUT/$name.callgrind" "$N" 40 >"$OUT/$name.vs-bare.txt" 2>/dev/null || true ;;
  esac
done

{
echo "| endpoint | instructions per request | vs bare |"
echo "|---|---:|---:|"
for name in "${ORDER[@]}"; do
  ir="${IR[$name]:-0}"
  per=$((ir / N))
  base=""
  case "$name" in
    *jsv*) base="${IR[bare-jsv]:-0}" ;;
    *) base="${IR[bare-json]:-0}" ;;
  esac
  ratio="$(awk -v a="$ir" -v b="$base" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "" }')"
  echo "| $name | $per | $ratio |"
done
} | tee "$OUT/summary.md"
log "callgrind dumps and annotations in $OUT"
