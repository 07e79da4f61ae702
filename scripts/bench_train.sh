#!/usr/bin/env bash
# Training speed of bert-train (release build) for the tiny and base presets at sequence length
# 128, and the same step in transformers/PyTorch on the CPU when python3 has torch.
#
#   scripts/bench_train.sh [CORPUS] [THREADS] [BATCH] [BASE_BATCH]
#
# CORPUS defaults to ../shared/corpora/enwiki-2019-small, THREADS to all cores, BATCH (tiny) to
# 32 and BASE_BATCH to 8 (base at 32 needs about 14 GB: candle keeps every activation).
# Builds shards at --max-seq-len 128 with the embedded BERT vocabulary, trains each preset a few
# steps with --log-every 1 and reports the mean of metrics.jsonl's per-step sequences/s over all
# steps but the first (seconds per step = BATCH / that). bert-train's batches are trimmed to
# their longest row; the PyTorch batch is full length (128), so its step does at least as much
# work. Loader throughput alone: `cargo bench --bench train -- loader`.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpora/enwiki-2019-small}
THREADS=${2:-$(nproc)}
BATCH=${3:-32}
BASE_BATCH=${4:-8}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --workspace --bins
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN/bertprep" build --quiet --in "$CORPUS" --out "$WORK/shards" --max-seq-len 128
for spec in "tiny 12 $BATCH" "base 3 $BASE_BATCH"; do
  read -r model steps batch <<<"$spec"
  "$BIN/bert-train" --quiet --shards "$WORK/shards" --out "$WORK/run-$model" --model "$model" \
    --batch-size "$batch" --max-steps "$steps" --log-every 1 --save-every 0 --threads "$THREADS"
  python3 - "$WORK/run-$model/metrics.jsonl" "$model" "$batch" "$THREADS" <<'PY'
import json, sys
path, model, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
lines = [json.loads(l) for l in open(path) if '"train"' in l][1:]
sps = sum(l["sequences_per_s"] for l in lines) / len(lines)
tps = sum(l["tokens_per_s"] for l in lines) / len(lines)
print(f"bert-train {model} batch {batch} seq 128 threads {threads}: {batch / sps:.3f} s/step, "
      f"{sps:.1f} sequences/s, {tps:.0f} real tokens/s")
PY
  if python3 -c "import torch, transformers" 2>/dev/null; then
    python3 scripts/bench_torch_step.py --model "$model" --batch "$batch" --seq 128 \
      --steps $((steps + 1)) --threads "$THREADS"
  fi
done
