#!/usr/bin/env bash
# Peak RSS of `bertprep build` on enwiki-2021 (33 MB) and on ~1 GB made by repeating it, at
# --max-seq-len 512 (release binary, /usr/bin/time). The 1 GB corpus is four ~250 MB files, so
# big files are cut into work units too. Usage: scripts/bench_memory.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-0}
corpus=../shared/corpora/enwiki-2021/wiki
[ -d "$corpus" ] || { echo "SKIPPED: corpus $corpus not found" >&2; exit 0; }
cargo build --release --quiet
bin=target/release/bertprep
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/big"
files=$(find "$corpus" -type f ! -name '.*' | sort)
for part in 0 1 2 3; do
  for _ in $(seq 8); do cat $files; done > "$tmp/big/part$part"
done
printf '%-10s %10s %9s %9s %12s %10s\n' corpus MB seconds MB/s instances peak_MiB
for name in small big; do
  if [ $name = small ]; then input=$corpus; else input=$tmp/big; fi
  mb=$(du -sb --apparent-size "$input" | awk '{printf "%.0f", $1/1e6}')
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" build --quiet --in "$input" \
    --out "$tmp/out-$name" --max-seq-len 512 --threads "$threads"
  read -r secs rss_kb < "$tmp/time"
  instances=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['counters']['instances'])" "$tmp/out-$name/manifest.json")
  awk -v n=$name -v mb="$mb" -v s="$secs" -v i="$instances" -v r="$rss_kb" \
    'BEGIN { printf "%-10s %10d %9.1f %9.2f %12d %10.1f\n", n, mb, s, mb/s, i, r/1024 }'
  rm -rf "$tmp/out-$name"
done
