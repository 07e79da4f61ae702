#!/usr/bin/env python3
"""Scores `bertprep sentences` on the English "Golden Rules" of pragmatic-segmenter.

The rules are not kept in this repository: they are read at run time from pySBD's source
distribution on PyPI (`benchmarks/english_golden_rules.py`, 48 English rules), fetched with
`pip download` into a cache directory. Each rule is an input text and the expected sentences;
a rule passes when the output equals the expected list exactly (sentences stripped).

Compared, when installed: pySBD (`pip install pysbd`, the reference Python port of
pragmatic-segmenter, run with clean=False as in its own benchmark) and sentencex
(`pip install sentencex`, the Rust crate's Python binding).

With `--speed FILE`, also times each segmenter on the first `--speed-bytes` of FILE (lines as
paragraphs). bertprep's time there includes process start and I/O; its real throughput is in
`cargo bench --bench segment`.

Usage:
    python3 scripts/golden_rules.py [--bertprep PATH] [--verbose] [--speed FILE]

Without --bertprep, builds the release binary of this checkout with cargo and runs it.
"""

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time

PYSBD_SDIST = "pysbd==0.3.3"
RULES_MEMBER = "benchmarks/english_golden_rules.py"


def load_rules(cache):
    """GOLDEN_EN_RULES from pySBD's sdist, downloaded into `cache` once."""
    os.makedirs(cache, exist_ok=True)
    tars = [f for f in os.listdir(cache) if f.endswith(".tar.gz")]
    if not tars:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", PYSBD_SDIST, "--no-binary", ":all:",
             "--no-deps", "--quiet", "-d", cache],
            check=True,
        )
        tars = [f for f in os.listdir(cache) if f.endswith(".tar.gz")]
    with tarfile.open(os.path.join(cache, tars[0])) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(RULES_MEMBER))
        source = tar.extractfile(member).read().decode("utf-8")
    scope = {}
    exec(compile(source, RULES_MEMBER, "exec"), scope)
    return scope["GOLDEN_EN_RULES"]


def bertprep_command(args):
    """The bertprep binary: --bertprep, or a release build of this checkout."""
    if args.bertprep:
        return [args.bertprep]
    build = subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--bin", "bertprep",
         "--message-format=json"],
        stdout=subprocess.PIPE, check=True, text=True,
    )
    for line in build.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            if message["target"]["name"] == "bertprep":
                return [message["executable"]]
    sys.exit("cargo build did not report the bertprep binary")


def run_bertprep(command, texts):
    """Segments each text as one document in one process call."""
    for t in texts:
        assert "\n" not in t, "a rule with a line break would change the document cut"
    stdin = "\n\n".join(texts) + "\n"
    out = subprocess.run(
        command + ["sentences", "--format", "text", "-"],
        input=stdin.encode("utf-8"),
        stdout=subprocess.PIPE,
        check=True,
    ).stdout.decode("utf-8")
    docs = out.split("\n\n")
    result = [d.strip("\n").split("\n") for d in docs]
    assert len(result) == len(texts), (len(result), len(texts))
    return result


def pysbd_segmenter():
    try:
        import pysbd
    except ImportError:
        return None
    seg = pysbd.Segmenter(language="en", clean=False, char_span=False)
    return lambda text: [s.strip() for s in seg.segment(text) if s.strip()]


def sentencex_segmenter():
    try:
        import sentencex
    except ImportError:
        return None
    return lambda text: [s.strip() for s in sentencex.segment("en", text) if s.strip()]


def score(name, rules, outputs, verbose):
    passed = 0
    for n, ((text, expected), got) in enumerate(zip(rules, outputs), 1):
        if got == expected:
            passed += 1
        elif verbose:
            print(f"  {name} fails rule {n}: {text!r}\n    expected {expected!r}\n    got      {got!r}")
    print(f"{name}: {passed}/{len(rules)} golden rules")
    return passed


def speed(args, command, others):
    with open(args.speed, encoding="utf-8") as f:
        text = f.read(args.speed_bytes)
    lines = [line for line in text.split("\n") if line.strip() and not line.startswith("<")]
    size = sum(len(line.encode("utf-8")) + 1 for line in lines)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        start = time.perf_counter()
        subprocess.run(command + ["sentences", "--format", "text", path],
                       stdout=subprocess.DEVNULL, check=True)
        took = time.perf_counter() - start
        print(f"speed bertprep (process, incl. start-up): {size / took / 1e6:.2f} MB/s")
    finally:
        os.unlink(path)
    for name, segment in others:
        start = time.perf_counter()
        for line in lines:
            segment(line)
        took = time.perf_counter() - start
        print(f"speed {name}: {size / took / 1e6:.3f} MB/s ({size} bytes)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bertprep", help="path of the bertprep binary")
    p.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "bertprep-golden-rules"))
    p.add_argument("--verbose", "-v", action="store_true", help="print every failing rule")
    p.add_argument("--speed", metavar="FILE", help="also time the segmenters on this text")
    p.add_argument("--speed-bytes", type=int, default=1_000_000)
    args = p.parse_args()

    rules = load_rules(args.cache)
    texts = [text for text, _ in rules]
    command = bertprep_command(args)
    score("bertprep", rules, run_bertprep(command, texts), args.verbose)
    others = []
    for name, make in (("pysbd", pysbd_segmenter), ("sentencex", sentencex_segmenter)):
        segment = make()
        if segment is None:
            print(f"{name}: not installed (pip install {name})")
            continue
        others.append((name, segment))
        score(name, rules, [segment(t) for t in texts], args.verbose)
    if args.speed:
        speed(args, command, others)


if __name__ == "__main__":
    main()
