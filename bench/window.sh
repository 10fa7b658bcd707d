#!/usr/bin/env bash
# Times `skillopt inspect window` on a generated ~100 MB Claude Code transcript and reports wall
# time and peak RSS (GNU time). The skill use sits in the middle; tool results are long.
#   bench/window.sh [release|debug] [size-mb]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
size_mb=${2:-100}
if [ "$profile" = release ]; then cargo build -q --release -p skillopt-worker; else cargo build -q -p skillopt-worker; fi
bin=$PWD/target/$profile/skillopt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/big.jsonl" "$size_mb" <<'PY'
import json, sys
path, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
out = open(path, "w")
written, i, placed = 0, 0, False
blob = "x" * 4000
while written < size:
    i += 1
    lines = [
        {"type": "user", "timestamp": f"t{i}", "message": {"role": "user", "content": f"prompt {i}"}},
        {"type": "assistant", "timestamp": f"t{i}", "message": {"content": [{"type": "tool_use", "id": f"toolu_{i}", "name": "Bash", "input": {"command": f"cat file{i}"}}]}},
        {"type": "user", "timestamp": f"t{i}", "message": {"content": [{"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": blob}]}},
        {"type": "assistant", "timestamp": f"t{i}", "message": {"content": [{"type": "text", "text": f"answer {i} " + "y" * 500}]}},
    ]
    if not placed and written > size // 2:
        lines.append({"type": "assistant", "timestamp": "mid", "message": {"content": [{"type": "tool_use", "id": "toolu_TARGET", "name": "Skill", "input": {"skill": "deploy--alice"}}]}})
        placed = True
    for l in lines:
        s = json.dumps(l) + "\n"
        out.write(s)
        written += len(s)
PY
ls -l "$work/big.jsonl" | awk '{printf "transcript: %.1f MB\n", $5/1048576}'
for target in "--tool-use-id toolu_TARGET" "--skill deploy--alice"; do
  /usr/bin/time -f "inspect window $target: wall %e s, peak RSS %M KB" \
    "$bin" inspect window "$work/big.jsonl" $target --reaction "that failed" > "$work/window.txt"
  echo "  window: $(wc -c < "$work/window.txt") bytes"
done
/usr/bin/time -f "inspect transcript: wall %e s, peak RSS %M KB" "$bin" inspect transcript "$work/big.jsonl" --json > /dev/null
