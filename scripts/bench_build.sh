#!/usr/bin/env bash
# Measures `bertprep build` on a corpus with the release binary: wall time, MB/s,
# instances/s, peak RSS and on-disk bytes per instance, at --max-seq-len 128 and 512.
#
# Usage: scripts/bench_build.sh [CORPUS_DIR] [THREADS]
#   CORPUS_DIR defaults to ../shared/corpora/enwiki-2021/wiki; THREADS to all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpora/enwiki-2021/wiki}
threads=${2:-0}
[ -d "$corpus" ] || { echo "SKIPPED: corpus $corpus not found" >&2; exit 0; }
cargo build --release --quiet
bin=target/release/bertprep
bytes=$(find "$corpus" -type f ! -name '.*' -printf '%s\n' | awk '{s+=$1} END {print s}')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-8s %-8s %9s %9s %12s %12s %10s %12s\n' seq_len threads seconds MB/s instances inst/s peak_MiB bytes/inst
for len in 128 512; do
  /usr/bin/time -f '%e %M' -o "$out/time" "$bin" build --quiet --overwrite --in "$corpus" \
    --out "$out/shards" --max-seq-len "$len" --threads "$threads"
  read -r secs rss_kb < "$out/time"
  instances=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['counters']['instances'])" "$out/shards/manifest.json")
  shard_bytes=$(find "$out/shards" -name 'shard-*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
  awk -v l="$len" -v t="$threads" -v s="$secs" -v b="$bytes" -v n="$instances" -v r="$rss_kb" -v sb="$shard_bytes" \
    'BEGIN { printf "%-8s %-8s %9.2f %9.2f %12d %12.0f %10.1f %12.1f\n", l, t, s, b/1e6/s, n, n/s, r/1024, sb/n }'
done
