#!/usr/bin/env bash
# Checks a `--features cuda` build of bert-train on a machine with an NVIDIA GPU:
#
#   scripts/check_gpu.sh BERT_TRAIN SHARDS [SHARDS_512] [WORK_DIR]
#
# BERT_TRAIN is the cuda build (e.g. target/release/bert-train after
# `cargo build --release -p bert-train --features cuda`), SHARDS a `bertprep build --max-seq-len 128` output
# (enwiki-2019-small gives ~4,200 rows), SHARDS_512 the same at --max-seq-len 512 (step 6 is
# skipped without it). The CUDA libraries it links (libcublas, libcurand,
# libcudart) must be on LD_LIBRARY_PATH; PyTorch's `nvidia-*` wheels hold them.
#
# 1. tiny model, 20 steps, twice: the metrics and the step-20 checkpoint must be identical;
# 2. the same run stopped at step 10 and resumed: metrics within 1e-6, checkpoint identical;
# 3. base model, batch 32, 30 steps: seconds per step over steps 6-30;
# 4. the base checkpoint loaded by transformers (scripts/check_checkpoint.py);
# 5. transformers' BertForPreTraining step on the same GPU, float32 (scripts/bench_torch_step.py);
# 6. base batch 32 at 512 (15 steps), both sides, float32;
# 7. base batch 32 at 128 with --precision bf16 against PyTorch under autocast bf16.
# nvidia-smi samples the GPU's utilisation every 200 ms during each bert-train base run; its mean
# is printed as the GPU's busy share. Exits non-zero when 1, 2 or 4 fails; the rest only print.
set -uo pipefail
cd "$(dirname "$0")/.."
BT=$(realpath "$1")
SHARDS=$2
SHARDS_512=${3:-}
W=${4:-$(mktemp -d)}
mkdir -p "$W"
fail=0
tiny=(--shards "$SHARDS" --model tiny --batch-size 32 --log-every 1 --seed 42 --device cuda
  --quiet --max-steps 20 --save-every 20)
"$BT" "${tiny[@]}" --out "$W/a" || fail=1
"$BT" "${tiny[@]}" --out "$W/b" || fail=1
"$BT" "${tiny[@]}" --out "$W/c" --stop-at 10 && "$BT" --resume "$W/c" --quiet || fail=1
python3 - "$W" <<'PY' || fail=1
import json, os, sys
w = sys.argv[1]
def train(run):
    with open(os.path.join(w, run, "metrics.jsonl")) as f:
        rows = [json.loads(l) for l in f if '"train"' in l]
    return [{k: v for k, v in r.items() if not k.endswith("_per_s")} for r in rows]
def weights(run):
    with open(os.path.join(w, run, "checkpoint-20", "model.safetensors"), "rb") as f:
        return f.read()
a, b, c = train("a"), train("b"), train("c")
repeat = a == b and weights("a") == weights("b")
close = len(a) == len(c) == 20 and all(
    abs(x[k] - y[k]) <= 1e-6 for x, y in zip(a, c) for k in x if isinstance(x[k], float))
resume = close and weights("a") == weights("c")
print(f"tiny on cuda: loss {a[0]['loss']:.4f} -> {a[-1]['loss']:.4f}; repeated run identical: "
      f"{repeat}; resumed run identical: {resume}")
sys.exit(0 if repeat and resume else 1)
PY
# base_run NAME SHARDS SEQ STEPS [FLAGS...]: a base run at batch 32, its s/step over the steps
# after the fifth and the GPU's mean utilisation meanwhile.
base_run() {
  local name=$1 shards=$2 seq=$3 steps=$4
  shift 4
  nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 200 \
    > "$W/$name.util" 2>/dev/null &
  local smi=$!
  "$BT" --shards "$shards" --model base --batch-size 32 --log-every 1 --seed 42 --device cuda \
    --quiet --max-steps "$steps" --save-every "$steps" --out "$W/$name" "$@" || fail=1
  kill "$smi" 2>/dev/null
  python3 - "$W/$name/metrics.jsonl" "$W/$name.util" "$seq" "$*" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l][5:]
secs = sum(r["sequences"] / r["sequences_per_s"] for r in rows)
util = [int(x) for x in open(sys.argv[2]).read().split() if x.strip().isdigit()]
busy = f"{sum(util) / len(util):.0f}%" if util else "unknown"
print(f"bert-train base batch 32 seq {sys.argv[3]} {sys.argv[4]} on cuda: "
      f"{secs / len(rows):.4f} s/step, {sum(r['sequences'] for r in rows) / secs:.1f} "
      f"sequences/s (steps 6 on), GPU busy {busy}")
PY
}
base_run base "$SHARDS" 128 30
python3 scripts/check_checkpoint.py "$W/base/checkpoint-30" || fail=1
python3 scripts/bench_torch_step.py --model base --batch 32 --seq 128 --steps 10 --device cuda
if [ -n "$SHARDS_512" ]; then
  base_run base512 "$SHARDS_512" 512 15
  python3 scripts/bench_torch_step.py --model base --batch 32 --seq 512 --steps 10 --device cuda
fi
base_run bf16 "$SHARDS" 128 30 --precision bf16
python3 scripts/check_checkpoint.py "$W/bf16/checkpoint-30" || fail=1
python3 scripts/bench_torch_step.py --model base --batch 32 --seq 128 --steps 10 --device cuda \
  --autocast bf16
exit $fail
