#!/usr/bin/env bash
# Load test of `skillopt serve`: many concurrent keep-alive clients (wrk) on this machine against
# one server over a fresh PostgreSQL schema on loopback (and then over SQLite), per operation.
#   bench/serve.sh                     (builds the release binaries first)
#   BIN=DIR bench/serve.sh             (uses the skillopt binary already in DIR, builds nothing)
#   BACKENDS=postgres CONNS="8 64" DURATION=5 bench/serve.sh
#
# Setup: `skillopt serve token create --role member` (user `bench`), `skillopt serve --listen
# 127.0.0.1:0`, SKILLS (default 10) skills of about 2 KB pushed through the server with that token,
# and one real client that runs `skillopt pull` twice, the second time up to date.
#
# Operations (bench/serve.lua builds the requests; every request carries the member's token):
#   pull             what the sync of an up-to-date machine asks: POST /v1/registry/revision,
#                    answered with one number (pull is incremental: the machine pulls in full
#                    only when the revision, or its own side, changed). One request per pull.
#   full_pull        the requests of a full pull, in its order: installable (the rollout rules
#                    look for candidates), all_flags, installable (what to install); each
#                    `installable` answer carries every installable version's whole SKILL.md
#                    (SKILLS × ~2 KB). Full pulls/s = requests/s ÷ 3.
#   installable, all_flags   each of those requests alone.
#   add_outcome, add_attribution   one upload per request, each a new row (unique id, job id,
#                    session hash), so every request is an insert; `rows` is what the database
#                    gained during the run (about the requests answered 200: ones still in
#                    flight when wrk stops may land after it counted).
# Each runs DURATION seconds (default 10) with each connection count in CONNS (default "16 64"),
# wrk with THREADS threads (default 1; wrk and the server share the 2 cores).
#
# Then `pull@paced`: up-to-date pulls at about PACED_RATE (default 2,000) a second, from
# PACED_CONNS (default 16) connections that each wait before every request, so the latency is the
# server's and not the queue of a saturated machine (at saturation, wrk, the server and
# PostgreSQL share the 2 cores and the tail is the scheduler's).
#
# Reported per operation and connection count: requests/s, p50 and p99 latency (wrk measures
# from send to the whole answer on a kept-alive connection), errors (socket errors, timeouts
# over 5 s and answers >= 400), rows inserted, CPU used during the run by the server, by all
# PostgreSQL processes and by wrk (percent of one core; this machine has 2, so 200 % is all of
# it), by everything else on the machine (`other%`: from /proc/stat; anything above a few percent
# means the numbers are not this server's alone), and the server's peak RSS so far (VmHWM of
# /proc/<pid>/status). Then the issue's targets (issue 11 §4): up-to-date pulls >= 2,000/s with
# p99 <= 20 ms (the paced run), outcome and attribution uploads >= 500/s (at the largest
# connection count), server peak RSS <= 64 MiB.
#
# PostgreSQL: PG_URL (default postgres://postgres@127.0.0.1:5432/test) with
# `?schema=bench_serve_<pid>`, created by the server and dropped at the end (needs psql). When
# PostgreSQL does not answer, that backend is skipped with a message. SQLite: a file in a
# temporary directory. Needs wrk (apt-get install wrk), psql, python3, cargo unless BIN is set.
# Sends requests only to 127.0.0.1; every run is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKENDS=${BACKENDS:-postgres sqlite}
CONNS=${CONNS:-16 64}
DURATION=${DURATION:-10}
THREADS=${THREADS:-1}
SKILLS=${SKILLS:-10}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
OPS=${OPS:-pull full_pull installable all_flags add_outcome add_attribution}
PACED_RATE=${PACED_RATE:-2000}
PACED_CONNS=${PACED_CONNS:-16}
# Each paced connection waits this long (ms) before a request (aiming a little above the rate:
# the request's own time adds to it).
paced_delay=$(( PACED_CONNS * 1000 / PACED_RATE - 2 ))
[ "$paced_delay" -ge 1 ] || paced_delay=1

command -v wrk >/dev/null || { echo "bench/serve.sh needs wrk: apt-get install wrk" >&2; exit 1; }
if [ -n "${BIN:-}" ]; then
  bin=$(cd "$BIN" && pwd)/skillopt
else
  cargo build -q --release -p skillopt-worker
  bin=$PWD/target/release/skillopt
fi
lua=$PWD/bench/serve.lua

work=$(mktemp -d)
server_pid=
schema=bench_serve_$$
pg_schema_made=
cleanup() {
  stop_server
  if [ -n "$pg_schema_made" ]; then
    psql -q "$PG_URL" -c "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS $schema CASCADE" \
      >/dev/null 2>&1 || echo "could not drop schema $schema" >&2
  fi
  rm -rf "$work"
}
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap cleanup EXIT

# utime + stime (clock ticks) of a process and its threads; of every `postgres` process.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local total=0 p t
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = postgres ] || continue
    t=$(awk '{print $14 + $15}' "$p/stat" 2>/dev/null) || continue
    total=$((total + ${t:-0}))
  done
  echo "$total"
}
# Busy ticks of the whole machine (every core), to show what else ran during a run.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
hz=$(getconf CLK_TCK)
kib() { awk -v k="$1" '/^'"$2"':/ {print $2}' "/proc/$server_pid/status"; }

# Rows in a table of the served registry.
count_rows() {
  case $backend in
    postgres) psql -qtA "$PG_URL" -c "SELECT count(*) FROM $schema.$1" ;;
    sqlite) python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(f"SELECT count(*) FROM {sys.argv[2]}").fetchone()[0])' "$work/registry.sqlite3" "$1" ;;
  esac
}

# Skills of about 2 KB each.
make_skills() {
  local i dir
  for i in $(seq 1 "$SKILLS"); do
    dir=$work/skills/bench-skill-$i
    mkdir -p "$dir"
    {
      printf -- '---\nname: bench-skill-%d\ndescription: Benchmark skill %d, how to deploy a service safely\n---\n\n' "$i" "$i"
      printf '# Benchmark skill %d\n\n' "$i"
      for _ in $(seq 1 24); do
        printf -- '- Check the rollout plan, run the migrations first, watch the error rate for ten minutes.\n'
      done
    } >"$dir/SKILL.md"
  done
}

results=$work/results
: >"$results"

run_backend() {
  backend=$1
  local url
  case $backend in
    postgres)
      if ! psql -qtA "$PG_URL" -c 'SELECT 1' >/dev/null 2>&1; then
        echo "postgres: $PG_URL does not answer; skipped" >&2
        return 0
      fi
      url="$PG_URL?schema=$schema"
      pg_schema_made=1
      ;;
    sqlite) url="sqlite://$work/registry.sqlite3" ;;
    *) echo "unknown backend $backend" >&2; return 1 ;;
  esac
  local home=$work/$backend-home
  mkdir -p "$home"
  export HOME=$home SKILLOPT_STATE_DIR=$home/state
  unset SKILLOPT_REGISTRY SKILLOPT_TOKEN SKILLOPT_LOG

  local token
  token=$("$bin" serve token create --registry "$url" --user bench --role member --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

  "$bin" serve --registry "$url" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
  server_pid=$!
  local addr= _
  for _ in $(seq 1 100); do
    addr=$(sed -n 's|^listening on http://\([^ ]*\).*|\1|p' "$work/serve.out")
    [ -n "$addr" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$addr" ]; then
    echo "$backend: the server did not start:" >&2
    cat "$work/serve.err" >&2
    return 1
  fi
  echo "$backend: skillopt serve (pid $server_pid) on http://$addr over $(sed -n 's|.*(registry \(.*\))$|\1|p' "$work/serve.out")" >&2

  # Seed through the server, as a member pushing their own skills, then pull on a client twice.
  local skills_list= i
  for i in $(seq 1 "$SKILLS"); do
    SKILLOPT_REGISTRY=http://$addr SKILLOPT_TOKEN=$token \
      "$bin" push "$work/skills/bench-skill-$i" --author bench >/dev/null
    skills_list="$skills_list bench-skill-$i--bench"
  done
  local client=$work/$backend-client
  mkdir -p "$client/state"
  HOME=$client SKILLOPT_STATE_DIR=$client/state SKILLOPT_REGISTRY=http://$addr SKILLOPT_TOKEN=$token \
    "$bin" pull >/dev/null
  HOME=$client SKILLOPT_STATE_DIR=$client/state SKILLOPT_REGISTRY=http://$addr SKILLOPT_TOKEN=$token \
    "$bin" pull >"$work/pull2.out"
  local installed
  installed=$(grep -c . "$work/pull2.out" || true)
  echo "$backend: $SKILLS skills pushed; a client's second skillopt pull: $(sort "$work/pull2.out" | sed -n 1p) … ($installed lines)" >&2

  # Warm-up (not reported): the server opens its pooled database connections on demand.
  OP=all_flags TOKEN=$token wrk -t1 -c"$(echo "$CONNS" | tr ' ' '\n' | sort -n | tail -n1)" -d2s \
    -s "$lua" "http://$addr" >/dev/null

  local op c
  for op in $OPS; do
    for c in $CONNS; do
      run_one "$op" "$c" "" "$op"
    done
  done
  # Up-to-date pulls at about PACED_RATE a second (below saturation): PACED_CONNS connections,
  # each waiting before every request.
  if [[ " $OPS " == *" pull "* ]]; then
    run_one pull "$PACED_CONNS" "$paced_delay" pull@paced
  fi
  stop_server
}

# One wrk run: operation, connections, DELAY_MS (empty: none), label. Appends to $results.
run_one() {
  local op=$1 c=$2 delay=$3 label=$4
  local table before_rows s0 p0 b0 w out line rows srv pg other
      table=
      case $op in
        add_outcome) table=outcomes ;;
        add_attribution) table=attributions ;;
      esac
      before_rows=0
      [ -n "$table" ] && before_rows=$(count_rows "$table")
      s0=$(ticks "$server_pid")
      p0=$(pg_ticks)
      b0=$(busy_ticks)
      out=$work/wrk.out
      OP=$op LABEL=$label DELAY_MS=$delay TOKEN=$token SKILLS=$skills_list RUN="$backend-$op-$c-$$" \
        /usr/bin/time -f 'WRKCPU %U %S' -o "$work/wrk.time" \
        wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --timeout 5s -s "$lua" "http://$addr" >"$out" 2>"$work/wrk.err" ||
        { cat "$work/wrk.err" >&2; return 1; }
      if [ -s "$work/wrk.err" ]; then sed 's/^/  /' "$work/wrk.err" >&2; fi
      line=$(grep '^RESULT ' "$out") || { cat "$out" >&2; return 1; }
      # CPU as percent of one core over the run: ticks * 100 / hz / seconds.
      other=$(($(busy_ticks) - b0))
      srv=$(($(ticks "$server_pid") - s0))
      pg=$(($(pg_ticks) - p0))
      w=$(awk -v hz="$hz" '/^WRKCPU/ {printf "%d", ($2 + $3) * hz}' "$work/wrk.time")
      other=$((other - srv - pg - w))
      [ "$other" -ge 0 ] || other=0
      rows=-
      [ -n "$table" ] && rows=$(($(count_rows "$table") - before_rows))
      echo "$line backend=$backend conns=$c rows=$rows" \
        "server_cpu=$((srv * 100 / hz / DURATION))" \
        "pg_cpu=$( [ "$backend" = postgres ] && echo $((pg * 100 / hz / DURATION)) || echo - )" \
        "wrk_cpu=$((w * 100 / hz / DURATION)) other_cpu=$((other * 100 / hz / DURATION))" \
        "hwm_kib=$(kib "$server_pid" VmHWM) rss_kib=$(kib "$server_pid" VmRSS)" >>"$results"
      report_line "$(tail -n1 "$results")"
}

# key=value fields of a result line.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

header() {
  printf '%-8s %-15s %5s %8s %7s %7s %7s %6s %6s %5s %5s %5s %6s %10s\n' \
    backend op conns 'req/s' 'p50 ms' 'p99 ms' 'max ms' errors rows 'srv%' 'db%' 'wrk%' 'other%' 'VmHWM'
}
report_line() {
  local l=$1
  printf '%-8s %-15s %5s %8s %7s %7s %7s %6s %6s %5s %5s %5s %6s %6.1f MiB\n' \
    "$(field "$l" backend)" "$(field "$l" op)" "$(field "$l" conns)" "$(field "$l" rps)" \
    "$(field "$l" p50_ms)" "$(field "$l" p99_ms)" "$(field "$l" max_ms)" "$(field "$l" errors)" \
    "$(field "$l" rows)" "$(field "$l" server_cpu)" "$(field "$l" pg_cpu)" "$(field "$l" wrk_cpu)" \
    "$(field "$l" other_cpu)" "$(awk -v k="$(field "$l" hwm_kib)" 'BEGIN {print k / 1024}')"
}

make_skills
echo "skillopt serve load test: $(nproc) cores, wrk -t$THREADS, ${DURATION}s per run, connections: $CONNS, $SKILLS skills" >&2
header
for b in $BACKENDS; do
  run_backend "$b"
done

echo
echo "targets (issue 11 §4; at $(echo "$CONNS" | tr ' ' '\n' | sort -n | tail -n1) connections):"
max_c=$(echo "$CONNS" | tr ' ' '\n' | sort -n | tail -n1)
while read -r l; do
  b=$(field "$l" backend) op=$(field "$l" op) rps=$(field "$l" rps) p99=$(field "$l" p99_ms)
  err=$(field "$l" errors)
  [ "$(field "$l" conns)" = "$max_c" ] || [ "$op" = pull@paced ] || continue
  case $op in
    pull) awk -v b="$b" -v r="$rps" -v p="$p99" -v e="$err" 'BEGIN {
        printf "  %-8s up-to-date pulls at saturation: %d/s, p99 %.1f ms, %d errors\n", b, r, p, e }' ;;
    pull@paced) awk -v b="$b" -v r="$rps" -v p="$p99" -v e="$err" 'BEGIN {
        ok = (r >= 2000 && p <= 20 && e == 0)
        printf "  %-8s up-to-date pulls >= 2,000/s with p99 <= 20 ms: %s (%d/s, p99 %.1f ms, %d errors)\n", b, ok ? "met" : "MISSED", r, p, e }' ;;
    add_outcome | add_attribution) awk -v b="$b" -v op="$op" -v r="$rps" -v e="$err" 'BEGIN {
        ok = (r >= 500 && e == 0)
        printf "  %-8s %s >= 500/s: %s (%d/s, %d errors)\n", b, op, ok ? "met" : "MISSED", r, e }' ;;
  esac
done <"$results"
for b in $BACKENDS; do
  hwm=$(grep "backend=$b " "$results" | tail -n1 | tr ' ' '\n' | sed -n 's/^hwm_kib=//p')
  [ -n "$hwm" ] || continue
  awk -v b="$b" -v k="$hwm" 'BEGIN {
    printf "  %-8s server peak RSS <= 64 MiB: %s (VmHWM %.1f MiB)\n", b, k <= 65536 ? "met" : "MISSED", k / 1024 }'
done
