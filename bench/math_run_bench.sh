#!/bin/sh
# Wall time of a whole AIME24-shaped run against `retort sim --reasoning`: 30 synthetic
# problems x Evalchemy's 10 repeats (300 chat requests), scored with math_equiv, pass@1 and
# maj@10. The task is tasks/math/aime24.yaml with its data pointed at a local file.
#   bench/math_run_bench.sh BUILD_DIR [TTFT_MS] [TPOT_MS]
set -eu
build=${1:-build}
ttft=${2:-0}
tpot=${3:-0}
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill $simpid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
i=0
: > "$tmp/aime.jsonl"
while [ $i -lt 30 ]; do
  printf '{"id": %d, "problem": "Problem %d: find the value.", "solution": "s", "answer": "%d", "url": "u"}\n' $i $i $((i * 7)) >> "$tmp/aime.jsonl"
  i=$((i + 1))
done
cat > "$tmp/script.jsonl" <<'S'
{"pattern": "Problem [0-9]*[02468]:", "reply": "<think>Let me think about the cases one by one, then add them up.</think>The answer is $\\boxed{0}$."}
{"pattern": "", "reply": "<think>Consider the symmetric case first.</think>So the final answer is $\\boxed{\\frac{14}{2}}$."}
S
cat > "$tmp/aime_local.yaml" <<Y
include: $src/tasks/math/aime24.yaml
task: aime24_bench
dataset_path: json
dataset_kwargs:
  data_files:
    train: $tmp/aime.jsonl
Y
"$build/retort" sim --model m --mode script --script "$tmp/script.jsonl" --reasoning --max-model-len 40960 \
  --ttft-ms "$ttft" --tpot-ms "$tpot" --port 0 --port-file "$tmp/port" > "$tmp/sim.log" 2>&1 &
simpid=$!
while [ ! -s "$tmp/port" ]; do sleep 0.05; done
port=$(cat "$tmp/port")
start=$(date +%s.%N)
"$build/retort" run --model hosted_vllm/m --base-url "http://127.0.0.1:$port/v1" \
  --tasks "$tmp/aime_local.yaml" --apply_chat_template --no-cache \
  --output_path "$tmp/out" > "$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; exit 1; }
end=$(date +%s.%N)
grep -E "math_equiv|pass@1|maj@10" "$tmp/run.log" | head -5
echo "aime24-shaped run (30 problems x 10 repeats): $(echo "$end - $start" | bc) s wall"
