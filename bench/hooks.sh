#!/usr/bin/env bash
# Times the hook binaries as whole processes with hyperfine, next to /bin/true fed the same stdin,
# and measures each hook's peak RSS.
#   bench/hooks.sh [release|debug]     (default release; builds the binaries first)
#   BIN=DIR bench/hooks.sh             (times the binaries already in DIR, builds nothing)
# Cases: SessionStart with 0 and 20 installed org skills (a resumed session, whose record and
# event exist and do not change, and a new one, which writes both); PreToolUse on a non-skill
# tool and on an org skill; UserPromptSubmit with no window and with a window (including the
# worker spawn); hostile input: a 2 MB prompt of distinct `$name--author` tokens and a 2 MB shell
# command of SKILL.md paths (both must stay linear), and 16 MiB+ of stdin that never ends (the
# hook stops reading at the cap).
#
# Reported per command: median and p95 wall time, each as a ratio to /bin/true's median and p95
# on the same stdin, and peak RSS (max of `/usr/bin/time -f %M` over RSS_RUNS runs, default 20).
# RUNS (default 300) runs per command are split into ROUNDS (default 3) hyperfine rounds that
# alternate hook and /bin/true, and pooled: on a busy machine the load then shifts both sides
# alike instead of whichever ran last. WARMUP runs (default 20) start each round.
#
# Stdin comes straight from the payload file, never through `bash -c '… < file'` (a shell start
# costs more than a hook): with hyperfine >= 1.16 via `--input FILE`; with an older hyperfine
# (Debian's 1.15) through bench/feed.c, compiled here, which opens the file and execs the
# command, so hook and /bin/true both pay the same one extra exec (the ratios are then a little
# lower than without it). `HYPERFINE=/path` picks the binary.
#
# Acceptance (issue 9): SessionStart with 20 org skills ≤ 2× /bin/true; every hook ≤ 4 MiB peak
# RSS on real payloads. The hostile inputs are bounded but not that small: a 2 MB prompt is held
# as its bytes, then as the parsed payload, and its `$name` tokens as strings (see the README).
# Needs hyperfine (apt-get install hyperfine), python3, /usr/bin/time, and cc without --input.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
if [ -n "${BIN:-}" ]; then
  bin=$(cd "$BIN" && pwd)
else
  # Only the binaries timed here (the test crate's dependencies are not needed).
  if [ "$profile" = release ]; then cargo build -q --release -p skillopt-hooks -p skillopt-worker; else cargo build -q -p skillopt-hooks -p skillopt-worker; fi
  bin=$PWD/target/$profile
fi
hf=${HYPERFINE:-hyperfine}
command -v "$hf" >/dev/null || { echo "install hyperfine: apt-get install hyperfine" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if "$hf" --help | grep -q -- '--input'; then
  feed=""
  echo "stdin: hyperfine --input ($("$hf" --version))"
else
  cc -O2 -o "$work/feed" bench/feed.c
  feed=$work/feed
  echo "stdin: bench/feed.c (no --input in $("$hf" --version)); both sides pay its exec"
fi
export HOME=$work/home SKILLOPT_STATE_DIR=$work/state SKILLOPT_REGISTRY=sqlite://$work/registry.sqlite3
export SKILLOPT_SYNC_INTERVAL=24h SKILLOPT_USER=bench
mkdir -p "$HOME" "$SKILLOPT_STATE_DIR"
# No sync spawn during the timings: a sync was just requested (a time in the future would count
# as long ago).
echo "{\"last_request_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" > "$SKILLOPT_STATE_DIR/sync.json"

payload() { printf '%s' "$2" > "$work/$1.json"; }
payload start '{"session_id":"bench-1","transcript_path":"/tmp/t.jsonl","cwd":"/tmp","hook_event_name":"SessionStart","source":"startup"}'
payload bash '{"session_id":"bench-1","transcript_path":"/tmp/t.jsonl","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test"},"tool_use_id":"toolu_1"}'
payload skill '{"session_id":"bench-1","transcript_path":"/tmp/t.jsonl","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"skill-00--bench"},"tool_use_id":"toolu_2"}'
payload prompt '{"session_id":"bench-2","transcript_path":"/tmp/t.jsonl","hook_event_name":"UserPromptSubmit","prompt":"that did not work"}'

# run NAME INPUT CMD... : times each CMD and /bin/true on INPUT, prints median/p95, the ratios to
# /bin/true and each CMD's peak RSS.
run() {
  local name=$1 input=$2; shift 2
  local cmds=() c
  for c in "$@" /bin/true; do
    if [ -n "$feed" ]; then cmds+=("$feed $input $c"); else cmds+=("$c"); fi
  done
  local in_args=()
  [ -n "$feed" ] || in_args=(--input "$input")
  [ -z "${PREPARE:-}" ] || in_args+=(--prepare "$PREPARE")
  local rounds=${ROUNDS:-3} runs=${RUNS:-300} r
  [ "$runs" -ge "$rounds" ] || rounds=1
  for r in $(seq "$rounds"); do
    "$hf" -N "${in_args[@]}" --warmup "${WARMUP:-20}" --runs $((runs / rounds)) \
      --export-json "$work/$name.$r.out.json" "${cmds[@]}" >/dev/null 2>&1
  done
  local rss=()
  for c in "$@"; do
    local peak=0 i kb
    for i in $(seq "${RSS_RUNS:-20}"); do
      # shellcheck disable=SC2086
      kb=$(/usr/bin/time -f %M $c < "$input" 2>&1 >/dev/null | tail -1)
      [ "$kb" -gt "$peak" ] && peak=$kb
    done
    rss+=("$peak")
  done
  python3 - "$feed" "$#" "${rss[@]}" "$work/$name".*.out.json <<'PY'
import json, sys
feed, n = sys.argv[1], int(sys.argv[2])
rss, files = sys.argv[3:3 + n], sys.argv[3 + n:]
rounds = [json.load(open(f))["results"] for f in files]
def stats(i):
    t = sorted(x for res in rounds for x in res[i]["times"])
    return t[len(t) // 2] * 1000, t[min(len(t) - 1, int(0.95 * len(t)))] * 1000
base = stats(-1)
for i, r in enumerate(rounds[0]):
    cmd = r["command"].removeprefix(feed).split(" ", 2)[-1] if feed else r["command"]
    med, p95 = stats(i)
    mem = f"  peak RSS {int(rss[i]) / 1024:.2f} MiB" if i < len(rss) else ""
    print(f"  {cmd[-58:]:58s} median {med:6.2f} ms ({med / base[0]:.2f}x)"
          f"  p95 {p95:6.2f} ms ({p95 / base[1]:.2f}x){mem}")
PY
}

echo "== SessionStart, no org skills"
run ss0 "$work/start.json" "$bin/skillopt-session-start"

for i in $(seq -w 0 19); do
  mkdir -p "$work/src/skill-$i"
  printf -- '---\nname: skill-%s\ndescription: bench skill %s\n---\nbody %s\n' "$i" "$i" "$i" > "$work/src/skill-$i/SKILL.md"
  "$bin/skillopt" push "$work/src/skill-$i" --author bench >/dev/null
done
"$bin/skillopt" pull >/dev/null
echo "== SessionStart, 20 installed org skills (resumed session: its files exist)"
run ss20 "$work/start.json" "$bin/skillopt-session-start"
# A new session: its record and event do not exist yet (removed before every run, untimed).
event=$(ls "$SKILLOPT_STATE_DIR"/outbox/attribution-*.json)
echo "== SessionStart, 20 installed org skills (new session)"
PREPARE="rm -rf $SKILLOPT_STATE_DIR/sessions/bench-1 $event" run ss20new "$work/start.json" "$bin/skillopt-session-start"

echo "== PreToolUse: non-skill tool / org skill"
run ptu0 "$work/bash.json" "$bin/skillopt-pre-tool-use"
run ptu1 "$work/skill.json" "$bin/skillopt-pre-tool-use"

echo "== UserPromptSubmit: no window"
run ups0 "$work/prompt.json" "$bin/skillopt-user-prompt-submit"

echo "== UserPromptSubmit: open window (queues a judge job and spawns the worker)"
# A huge budget keeps the window open for every run; the worker is a no-op stand-in so the
# spawn is measured, not the judging.
export SKILLOPT_JUDGE_WINDOW=100000 SKILLOPT_WORKER_BIN=/bin/true
mkdir -p "$work/fakebin"; ln -sf /bin/true "$work/fakebin/skillopt"
cp "$bin/skillopt-user-prompt-submit" "$bin/skillopt-pre-tool-use" "$work/fakebin/"
arm='{"session_id":"bench-2","transcript_path":"/tmp/t.jsonl","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"skill-00--bench"},"tool_use_id":"toolu_3"}'
printf '%s' "$arm" | "$work/fakebin/skillopt-pre-tool-use"
run ups1 "$work/prompt.json" "$work/fakebin/skillopt-user-prompt-submit"

echo "== Hostile input: 2 MB prompt of distinct \$name--author tokens / 2 MB command of SKILL.md paths"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
toks = []
n = 0
while sum(map(len, toks)) < 2_000_000:
    toks.append(f"$skill-{n:06d}--bench ")
    n += 1
json.dump({"session_id": "bench-3", "transcript_path": "/tmp/t.jsonl",
           "hook_event_name": "UserPromptSubmit", "prompt": "".join(toks)}, open(f"{w}/bigprompt.json", "w"))
cmd = "cat " + "a/SKILL.md" * 200_000
json.dump({"session_id": "bench-3", "transcript_path": "/tmp/t.jsonl", "hook_event_name": "PreToolUse",
           "tool_name": "Bash", "tool_input": {"command": cmd}, "tool_use_id": "toolu_9"}, open(f"{w}/bigcmd.json", "w"))
PY
RUNS=${BIG_RUNS:-10} ROUNDS=1 WARMUP=1 RSS_RUNS=2 run bigp "$work/bigprompt.json" "$work/fakebin/skillopt-user-prompt-submit"
RUNS=${BIG_RUNS:-10} ROUNDS=1 WARMUP=1 RSS_RUNS=2 run bigc "$work/bigcmd.json" "$work/fakebin/skillopt-pre-tool-use"

echo "== Hostile input: stdin that never ends (/dev/zero): the hook stops at the 16 MiB cap"
RUNS=${BIG_RUNS:-10} ROUNDS=1 WARMUP=1 RSS_RUNS=2 run zero /dev/zero "$bin/skillopt-user-prompt-submit"
