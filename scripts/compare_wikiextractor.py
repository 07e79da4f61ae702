#!/usr/bin/env python3
"""Compare our MediaWiki extractor with WikiExtractor on the same dump.

For each dump: runs `python -m wikiextractor.WikiExtractor DUMP -o OUT --processes 1` and
`bertprep extract DUMP --out OUT --threads 1` (both write `<doc ...>` files), then reports for
both: documents, words, leftover markup fragments per 1,000 words, the share of WikiExtractor's
words that we keep (as a multiset), and wall time (best of --repeat runs each, the two tools
alternating) with the ratio.

Needs `wikiextractor` installed (`pip install wikiextractor`); installs nothing itself.
`.bz2` dumps are decompressed to a temporary `.xml` first so both tools read plain XML.

Usage (after `cargo build --release`):
  python3 scripts/compare_wikiextractor.py ../shared/corpora/mediawiki/enwiki-sample.xml.bz2
  python3 scripts/compare_wikiextractor.py --ours target/release/bertprep --repeat 5 DUMP [DUMP ...]
"""

import argparse
import bz2
import collections
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# Leftover markup: fragments that should never reach clean text. Defined once, used for both.
MARKUP = [
    "{{", "}}", "[[", "]]", "{|", "|}", "<ref", "</", "&quot;", "&amp;", "&nbsp;", "[http",
    "'''", "''", "<templatestyles",
]
MAGIC_WORD = re.compile(r"__[A-Z]{2,}__")
WORD = re.compile(r"\w+")
DOC_OPEN = re.compile(r'^<doc [^>]*>$')


def documents(path):
    """Yields the text of each `<doc>` in a WikiExtractor-style file (tag lines excluded)."""
    lines = []
    inside = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stripped = line.rstrip("\n")
            if DOC_OPEN.match(stripped):
                inside, lines = True, []
            elif stripped == "</doc>" and inside:
                inside = False
                yield "\n".join(lines)
            elif inside:
                lines.append(stripped)


def stats(path):
    # Both tools escape `&`, `<` and `>` in their `<doc>` files: markup is counted in the text
    # they hold, unescaped.
    docs = [html.unescape(d) for d in documents(path)]
    words = collections.Counter()
    markup = collections.Counter()
    for doc in docs:
        words.update(WORD.findall(doc))
        for m in MARKUP:
            markup[m] += doc.count(m)
        markup["__MAGIC__"] += len(MAGIC_WORD.findall(doc))
    return docs, words, markup


def plain_xml(dump, tmp, scale):
    """Returns a plain-XML path for `dump` in `tmp`: decompressed from `.bz2`, and with its
    pages repeated `scale` times (ids made unique) for a dump large enough that start-up costs
    do not count."""
    opener = bz2.open if dump.endswith(".bz2") else open
    with opener(dump, "rb") as src:
        xml = src.read().decode("utf-8")
    if scale > 1:
        first = xml.index("<page>")
        last = xml.rfind("</mediawiki>")
        last = len(xml) if last < 0 else last
        pages = xml[first:last]
        copies = [
            re.sub(r"<id>(\d+)</id>", lambda m, k=k: f"<id>{int(m.group(1)) + k * 10**9}</id>", pages)
            for k in range(scale)
        ]
        xml = xml[:first] + "".join(copies) + xml[last:]
    name = os.path.basename(dump).removesuffix(".bz2")
    out = os.path.join(tmp, name if scale == 1 else f"x{scale}-{name}")
    with open(out, "w", encoding="utf-8") as dst:
        dst.write(xml)
    return out


def merged_output(out_dir, merged):
    """Concatenates the files of a WikiExtractor-style output tree into `merged`."""
    with open(merged, "w", encoding="utf-8") as dst:
        for root, dirs, files in os.walk(out_dir):
            dirs.sort()
            for name in sorted(files):
                with open(os.path.join(root, name), encoding="utf-8") as src:
                    dst.write(src.read())
    return merged


def run_both(binary, xml, tmp, repeat):
    """Runs WikiExtractor and ours `repeat` times each, alternating; returns both merged outputs
    and the best wall time of each."""
    theirs_dir = os.path.join(tmp, "we_out")
    ours_dir = os.path.join(tmp, "ours_out")
    theirs_cmd = [sys.executable, "-m", "wikiextractor.WikiExtractor", xml, "-o", theirs_dir,
                  "--processes", "1"]
    ours_cmd = [binary, "extract", xml, "--out", ours_dir, "--threads", "1"]
    best = {"theirs": None, "ours": None}
    for _ in range(repeat):
        for name, out_dir, cmd in (("theirs", theirs_dir, theirs_cmd), ("ours", ours_dir, ours_cmd)):
            shutil.rmtree(out_dir, ignore_errors=True)
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elapsed = time.perf_counter() - start
            best[name] = elapsed if best[name] is None else min(best[name], elapsed)
    theirs = merged_output(theirs_dir, os.path.join(tmp, "wikiextractor.txt"))
    ours = merged_output(ours_dir, os.path.join(tmp, "ours.txt"))
    return ours, theirs, best["ours"], best["theirs"]


def report(dump, ours, theirs, t_ours, t_theirs, show_missing):
    o_docs, o_words, o_markup = ours
    t_docs, t_words, t_markup = theirs
    o_total, t_total = sum(o_words.values()), sum(t_words.values())
    kept = sum(min(c, o_words[w]) for w, c in t_words.items())
    print(f"== {dump}")
    print(f"{'':24}{'ours':>12}{'wikiextractor':>16}")
    print(f"{'documents':24}{len(o_docs):>12}{len(t_docs):>16}")
    print(f"{'words':24}{o_total:>12}{t_total:>16}")
    per_k = lambda m, total: 1000.0 * sum(m.values()) / max(total, 1)
    print(f"{'markup per 1k words':24}{per_k(o_markup, o_total):>12.3f}{per_k(t_markup, t_total):>16.3f}")
    for m in MARKUP + ["__MAGIC__"]:
        if o_markup[m] or t_markup[m]:
            print(f"  {m:22}{o_markup[m]:>12}{t_markup[m]:>16}")
    print(f"{'wall time (s)':24}{t_ours:>12.4f}{t_theirs:>16.4f}")
    print(f"speed ratio (theirs / ours): {t_theirs / t_ours:.1f}x")
    print(f"words of WikiExtractor kept (multiset): {100.0 * kept / max(t_total, 1):.2f}%")
    if show_missing:
        missing = collections.Counter({w: c - o_words[w] for w, c in t_words.items() if c > o_words[w]})
        print("most-dropped words:", missing.most_common(show_missing))
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ours", default="target/release/bertprep", help="the bertprep binary")
    p.add_argument("--repeat", type=int, default=3, help="timing runs, best kept")
    p.add_argument("--scale", type=int, default=1,
                   help="repeat the dump's pages this many times (ids made unique) first")
    p.add_argument("--show-missing", type=int, default=0, help="list the N words we drop most")
    p.add_argument("--keep", help="copy both outputs into this folder")
    p.add_argument("dumps", nargs="+")
    a = p.parse_args()
    for dump in a.dumps:
        with tempfile.TemporaryDirectory() as tmp:
            xml = plain_xml(dump, tmp, a.scale)
            ours_path, theirs_path, t_ours, t_theirs = run_both(a.ours, xml, tmp, a.repeat)
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
                base = os.path.basename(xml)
                shutil.copy(ours_path, os.path.join(a.keep, base + ".ours.txt"))
                shutil.copy(theirs_path, os.path.join(a.keep, base + ".wikiextractor.txt"))
            report(dump, stats(ours_path), stats(theirs_path), t_ours, t_theirs, a.show_missing)


if __name__ == "__main__":
    main()
