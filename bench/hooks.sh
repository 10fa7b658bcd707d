#!/usr/bin/env bash
# Times the hook binaries as whole processes with hyperfine, next to /bin/true.
#   bench/hooks.sh [release|debug]     (default release; builds the workspace first)
# Cases: SessionStart with 0 and 20 installed org skills; PreToolUse on a non-skill tool and on an
# org skill; UserPromptSubmit with no window and with a window (including the worker spawn);
# hostile input: a 2 MB prompt of distinct `$name--author` tokens and a 2 MB shell command of
# SKILL.md paths (both must stay linear), and 16 MiB+ of stdin that never ends (the hook stops
# reading at the cap).
# Needs hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
# Only the binaries timed here (the test crate's dependencies are not needed).
if [ "$profile" = release ]; then cargo build -q --release -p skillopt-hooks -p skillopt-worker; else cargo build -q -p skillopt-hooks -p skillopt-worker; fi
bin=$PWD/target/$profile
command -v hyperfine >/dev/null || { echo "install hyperfine: apt-get install hyperfine" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
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

run() { hyperfine -N --warmup "${WARMUP:-20}" --runs "${RUNS:-300}" --export-json "$work/$1.json.out" "${@:2}" 2>/dev/null | grep -E "Time|±" | head -1; \
        python3 -c "import json,sys; r=json.load(open('$work/$1.json.out'))['results']; [print(f'  {x[\"command\"][:60]:60s} median {x[\"median\"]*1000:.2f} ms') for x in r]"; }

echo "== SessionStart, no org skills"
run ss0 "bash -c '$bin/skillopt-session-start < $work/start.json'" "bash -c '/bin/true < $work/start.json'"

for i in $(seq -w 0 19); do
  mkdir -p "$work/src/skill-$i"
  printf -- '---\nname: skill-%s\ndescription: bench skill %s\n---\nbody %s\n' "$i" "$i" "$i" > "$work/src/skill-$i/SKILL.md"
  "$bin/skillopt" push "$work/src/skill-$i" --author bench >/dev/null
done
"$bin/skillopt" pull >/dev/null
echo "== SessionStart, 20 installed org skills"
run ss20 "bash -c '$bin/skillopt-session-start < $work/start.json'" "bash -c '/bin/true < $work/start.json'"

echo "== PreToolUse: non-skill tool / org skill"
run ptu "bash -c '$bin/skillopt-pre-tool-use < $work/bash.json'" "bash -c '$bin/skillopt-pre-tool-use < $work/skill.json'" "bash -c '/bin/true < $work/bash.json'"

echo "== UserPromptSubmit: no window"
run ups0 "bash -c '$bin/skillopt-user-prompt-submit < $work/prompt.json'" "bash -c '/bin/true < $work/prompt.json'"

echo "== UserPromptSubmit: open window (queues a judge job and spawns the worker)"
# A huge budget keeps the window open for every run; the worker is a no-op stand-in so the
# spawn is measured, not the judging.
export SKILLOPT_JUDGE_WINDOW=100000 SKILLOPT_WORKER_BIN=/bin/true
mkdir -p "$work/fakebin"; ln -sf /bin/true "$work/fakebin/skillopt"
cp "$bin/skillopt-user-prompt-submit" "$bin/skillopt-pre-tool-use" "$work/fakebin/"
arm='{"session_id":"bench-2","transcript_path":"/tmp/t.jsonl","hook_event_name":"PreToolUse","tool_name":"Skill","tool_input":{"skill":"skill-00--bench"},"tool_use_id":"toolu_3"}'
printf '%s' "$arm" | "$work/fakebin/skillopt-pre-tool-use"
run ups1 "bash -c '$work/fakebin/skillopt-user-prompt-submit < $work/prompt.json'" "bash -c '/bin/true < $work/prompt.json'"

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
RUNS=${BIG_RUNS:-10} WARMUP=1 run big "bash -c '$work/fakebin/skillopt-user-prompt-submit < $work/bigprompt.json'" "bash -c '$work/fakebin/skillopt-pre-tool-use < $work/bigcmd.json'"

echo "== Hostile input: stdin that never ends (/dev/zero): the hook stops at the 16 MiB cap"
RUNS=${BIG_RUNS:-10} WARMUP=1 run zero "bash -c 'timeout 10 $bin/skillopt-user-prompt-submit < /dev/zero; true'"
