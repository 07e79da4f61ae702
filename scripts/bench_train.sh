#!/usr/bin/env bash
# Training speed and peak memory of bert-train (release build) against transformers + PyTorch on
# the same CPU, side by side in one run: each configuration runs bert-train, then PyTorch.
#
#   scripts/bench_train.sh [CORPUS] [THREADS] [CONFIGS...]
#
# CORPUS defaults to ../shared/corpora/enwiki-2019-small, THREADS to all cores. A configuration
# is PRESET:BATCH:SEQ:STEPS[:FLAGS], FLAGS being extra bert-train flags joined by commas
# (`base:32:128:3:--recompute`); the default set is tiny at batch 32, base at batch 8 and 32 at
# sequence 128, and base at batch 8 at sequence 512.
#
# For each, shards are built at --max-seq-len SEQ with the embedded BERT vocabulary; bert-train
# trains STEPS steps with --log-every 1, and its time per step is the median over all steps but
# the first of BATCH over metrics.jsonl's sequences/s. scripts/bench_torch_step.py times the
# same step in transformers' BertForPreTraining (STEPS + 1 steps; the median of all but the
# first). Peak
# RSS of each process is GNU time's maximum resident set size. bert-train's batches are trimmed
# to their longest row; PyTorch's are full length, so at SEQ its step does at least as much
# work. Without torch and transformers only bert-train runs.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpora/enwiki-2019-small}
THREADS=${2:-$(nproc)}
shift $(($# < 2 ? $# : 2))
CONFIGS=("$@")
if [ ${#CONFIGS[@]} -eq 0 ]; then
  CONFIGS=(tiny:32:128:12 base:8:128:3 base:32:128:3 base:8:512:3)
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --workspace --bins
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TORCH=0
python3 -c "import torch, transformers" 2>/dev/null && TORCH=1
echo "config | bert-train s/step | bert-train peak RSS | PyTorch s/step | PyTorch peak RSS"
for config in "${CONFIGS[@]}"; do
  IFS=: read -r model batch seq steps flags <<<"$config"
  IFS=, read -r -a extra <<<"${flags:-}"
  shards=$WORK/shards-$seq
  [ -d "$shards" ] || "$BIN/bertprep" build --quiet --in "$CORPUS" --out "$shards" --max-seq-len "$seq"
  run=$WORK/run-$model-$batch-$seq
  rm -rf "$run"
  /usr/bin/time -f "%M" -o "$WORK/rss" "$BIN/bert-train" --quiet --shards "$shards" --out "$run" \
    --model "$model" --batch-size "$batch" --max-steps "$steps" --log-every 1 --save-every 0 \
    --threads "$THREADS" "${extra[@]}"
  ours=$(python3 - "$run/metrics.jsonl" "$batch" <<'PY'
import json, sys
import statistics
lines = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l][1:]
steps = [int(sys.argv[2]) / l["sequences_per_s"] for l in lines]
print(f"{statistics.median(steps):.3f} ({' '.join(f'{x:.2f}' for x in steps)})")
PY
)
  ours_rss=$(awk '{printf "%.2f GiB", $1 / 1048576}' "$WORK/rss")
  theirs="-"
  theirs_rss="-"
  if [ "$TORCH" = 1 ]; then
    /usr/bin/time -f "%M" -o "$WORK/rss" python3 scripts/bench_torch_step.py --model "$model" \
      --batch "$batch" --seq "$seq" --steps $((steps + 1)) --threads "$THREADS" > "$WORK/torch"
    theirs=$(python3 -c "import statistics, sys; s = sys.argv[1].split('steps: ')[1].rstrip(')').split(); print(f'{statistics.median(map(float, s[1:])):.3f} ({chr(32).join(s[1:])})')" "$(cat "$WORK/torch")")
    theirs_rss=$(awk '{printf "%.2f GiB", $1 / 1048576}' "$WORK/rss")
  fi
  echo "$model batch $batch seq $seq threads $THREADS ${flags:-} | $ours | $ours_rss | $theirs | $theirs_rss"
done
