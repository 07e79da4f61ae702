#!/usr/bin/env python3
"""Wall time of `bertprep build` with 1 and 2 threads, runs interleaved, medians and their
ratio (this machine is shared: only side-by-side figures compare).

    python3 scripts/bench_threads.py [--len 128] [--reps 7] [--bin target/release/bertprep]
        [--bin OTHER_BINARY ...] [--corpus ../shared/corpora/enwiki-2021/wiki]
        [-- EXTRA BUILD FLAGS]

With several `--bin`, every binary runs in each round (old against new in one run), and each
binary's medians are printed with its ratio to the first.

Times each run with a monotonic clock (milliseconds) and reads user and system CPU seconds from
the child's resource usage. Build the release binary first (`cargo build --release`).
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser()
    p.add_argument("--len", default="128")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--bin", action="append")
    p.add_argument("--corpus", default="../shared/corpora/enwiki-2021/wiki")
    args = p.parse_args(argv)
    bins = args.bin or ["target/release/bertprep"]
    if not os.path.exists(args.corpus):
        sys.exit(f"SKIPPED: corpus {args.corpus} not found")
    mb = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.corpus)
             for f in fs if not f.startswith(".")) / 1e6
    out = tempfile.mkdtemp()
    runs = {(b, t): [] for b in bins for t in (1, 2)}
    try:
        for _ in range(args.reps):
            for binary, threads in runs:
                shutil.rmtree(os.path.join(out, "o"), ignore_errors=True)
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run([binary, "build", "--quiet", "--in", args.corpus, "--out",
                                os.path.join(out, "o"), "--max-seq-len", args.len,
                                "--threads", str(threads)] + extra, check=True)
                wall = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                runs[(binary, threads)].append((wall, after.ru_utime - before.ru_utime,
                                      after.ru_stime - before.ru_stime))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    med = {}
    for (binary, threads), rs in runs.items():
        med[(binary, threads)] = m = statistics.median(r[0] for r in rs)
        print(f"{binary} --max-seq-len {args.len} --threads {threads}: {m * 1000:.0f} ms "
              f"({mb / m:.1f} MB/s), user {statistics.median(r[1] for r in rs):.2f} s, "
              f"sys {statistics.median(r[2] for r in rs):.2f} s; runs "
              f"{' '.join(f'{r[0] * 1000:.0f}' for r in rs)} ms")
    for binary in bins:
        print(f"{binary}: 2 threads / 1 thread: "
              f"{med[(binary, 1)] / med[(binary, 2)]:.2f}x")
        if binary != bins[0]:
            for threads in (1, 2):
                print(f"{binary} / {bins[0]} at {threads} thread(s): "
                      f"{med[(binary, threads)] / med[(bins[0], threads)]:.3f}")

if __name__ == "__main__":
    main()
