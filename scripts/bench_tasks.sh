#!/usr/bin/env bash
# Bytes read per worker and wall time of N workers against one, for a `--tasks` build.
#
#   scripts/bench_tasks.sh CORPUS [TASKS] [N...]
#
# For each N (default 1 2 4 8), starts N `bertprep build --tasks TASKS --worker i/N` processes
# at once on this machine (threads shared out: at least one each) into a fresh directory,
# waits, runs `bertprep finalize`, and prints each worker's bytes read (from its summary line:
# its plan's reads and every byte its tasks' pieces read) as a share of the corpus, and the
# wall time. Every N must give the same shards (checked).
# PIECE_BYTES sets --piece-bytes (default: the build's, 32 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(realpath "$1")
tasks=${2:-32}
shift $(( $# > 1 ? 2 : 1 ))
counts=${*:-1 2 4 8}
cargo build --release --quiet --bin bertprep
bin=$(realpath target/release/bertprep)
size=$(du -bc "$corpus" | tail -1 | cut -f1)
cores=$(nproc)
work=$(mktemp -d /tmp/bertprep-tasks.XXXXXX)
trap 'rm -rf "$work"' EXIT
flags=(--max-seq-len 128 --dupe-factor 1 --tasks "$tasks")
[ -n "${PIECE_BYTES:-}" ] && flags+=(--piece-bytes "$PIECE_BYTES")
echo "corpus $corpus: $size bytes; $tasks tasks; $cores cores"
reference=
for n in $counts; do
  out=$work/n$n
  threads=$(( cores / n > 0 ? cores / n : 1 ))
  start=$(date +%s.%N)
  pids=()
  for ((i = 0; i < n; i++)); do
    "$bin" build --in "$corpus" --out "$out" "${flags[@]}" --worker "$i/$n" --threads "$threads" \
      2> "$work/n$n-w$i.log" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  end=$(date +%s.%N)
  "$bin" finalize "$out" 2>/dev/null
  digest=$(cat "$out"/shard-*.parquet | sha256sum | cut -c1-16)
  [ -z "$reference" ] && reference=$digest
  [ "$digest" = "$reference" ] || { echo "N=$n wrote other shards ($digest)" >&2; exit 1; }
  line=$(python3 - "$work" "$n" "$size" <<'EOF'
import re, sys, pathlib
work, n, size = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
per = []
for i in range(n):
    said = (work / f"n{n}-w{i}.log").read_text()
    per.append(int(re.search(r"(\d+) bytes of input read", said).group(1)))
print(" ".join(f"{b / size:.4f}" for b in per), f"(ideal {1 / n:.4f}; over ideal, bytes: {max(per) - size // n})")
EOF
)
  printf 'N=%d  %6.1f s  threads each %d  bytes read per worker / corpus: %s  shards %s\n' \
    "$n" "$(echo "$end - $start" | bc)" "$threads" "$line" "$digest"
done
