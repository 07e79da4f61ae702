#!/usr/bin/env bash
# Measures `bertprep export` against the build that wrote the shards, in one run on one
# machine: for --max-seq-len 128 and 512, the build's wall time and Parquet MB/s (bytes of
# shards written per second of build), then each format's export time, MB/s of output, peak
# RSS and bytes per instance. Each command runs REPS times; the median wall time is reported.
#
# Usage: scripts/bench_export.sh [CORPUS_DIR] [THREADS] [REPS]
#   CORPUS_DIR defaults to ../shared/corpora/enwiki-2021/wiki; THREADS to all cores; REPS to 5.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpora/enwiki-2021/wiki}
threads=${2:-0}
reps=${3:-5}
[ -d "$corpus" ] || { echo "SKIPPED: corpus $corpus not found" >&2; exit 0; }
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/bertprep
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Runs "$@" $reps times (removing $target before each); prints "median_seconds max_rss_kb".
timed() {
  local target=$1; shift
  for _ in $(seq "$reps"); do
    rm -rf "$target"
    /usr/bin/time -f '%e %M' -a -o "$out/times" "$@"
  done
  sort -n "$out/times" | awk '{t[NR]=$1; if ($2>m) m=$2} END {print t[int((NR+1)/2)], m}'
  rm -f "$out/times"
}
sum_bytes() { find "$1" -maxdepth 1 -type f "${@:2}" -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
printf '%-8s %-20s %9s %9s %10s %12s\n' seq_len what seconds MB/s peak_MiB bytes/inst
for len in 128 512; do
  read -r secs rss_kb < <(timed "$out/build" "$bin" build --quiet --in "$corpus" \
    --out "$out/build" --max-seq-len "$len" --threads "$threads")
  instances=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['counters']['instances'])" "$out/build/manifest.json")
  bytes=$(sum_bytes "$out/build" -name 'shard-*.parquet')
  awk -v l="$len" -v s="$secs" -v b="$bytes" -v n="$instances" -v r="$rss_kb" \
    'BEGIN { printf "%-8s %-20s %9.2f %9.2f %10.1f %12.1f\n", l, "build (parquet)", s, b/1e6/s, r/1024, b/n }'
  for spec in hdf5: tfrecord: tfrecord:gzip mds: mds:zstd; do
    format=${spec%%:*}
    codec=${spec#*:}
    dir="$out/$format-${codec:-plain}"
    read -r secs rss_kb < <(timed "$dir" "$bin" export "$out/build" --to "$format" \
      --out "$dir" --quiet --threads "$threads" ${codec:+--compression "$codec"})
    bytes=$(sum_bytes "$dir" ! -name 'export-manifest.json' ! -name 'index.json')
    awk -v l="$len" -v w="$format${codec:+ $codec}" -v s="$secs" -v b="$bytes" -v n="$instances" -v r="$rss_kb" \
      'BEGIN { printf "%-8s %-20s %9.2f %9.2f %10.1f %12.1f\n", l, "export " w, s, b/1e6/s, r/1024, b/n }'
    rm -rf "$dir"
  done
done
