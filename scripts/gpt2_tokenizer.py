#!/usr/bin/env python3
"""GPT-2's byte-level BPE as a `tokenizer.json`, built offline from the ranks that ship in a
PyPI package, for builds and tests that need a real GPT-2/RoBERTa vocabulary.

The `openai-whisper` source distribution carries `whisper/assets/gpt2.tiktoken`: GPT-2's 50,256
tokens as base64 bytes with their ranks, which are GPT-2's ids. The merges are recovered the
way `transformers` converts tiktoken files: a token of rank r is the merge of the two parts that
byte-level BPE over its bytes, using only ranks below r, ends with. The tokenizer written is
GPT-2's pipeline (no normaliser, `ByteLevel` split without prefix space, BPE, byte-level
decoder) with `<|endoftext|>` at 50256 and RoBERTa's special tokens `<s> <pad> </s> <unk>
<mask>` added after it (`<mask>` taking the spaces before it, as RoBERTa's does) and RoBERTa's
post-processor: the tokens RoBERTa's BPE makes, which is GPT-2's, under GPT-2's ids.

Usage: scripts/gpt2_tokenizer.py SOURCE OUT_DIR
  SOURCE: `gpt2.tiktoken`, or the whisper sdist (`openai_whisper-*.tar.gz`), e.g. fetched with
  `pip download openai-whisper==20250625 --no-deps --no-binary :all: -d DIR`.
Needs only the Python standard library.
"""

import base64
import json
import os
import sys
import tarfile


def byte_chars():
    """GPT-2's byte-to-unicode table."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(0xA1, 0xAC + 1))
        + list(range(0xAE, 0xFF + 1))
    )
    chars, n = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + n)
            n += 1
    return chars


def read_ranks(source):
    if source.endswith(".tiktoken"):
        with open(source, "rb") as f:
            text = f.read()
    else:
        with tarfile.open(source) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("assets/gpt2.tiktoken"))
            text = tar.extractfile(member).read()
    ranks = {}
    for line in text.splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def last_merge(ranks, token, max_rank):
    """The two parts BPE over `token`'s bytes ends with, using ranks below `max_rank`."""
    parts = [bytes([b]) for b in token]
    while True:
        best = None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and rank < max_rank and (best is None or rank < best[1]):
                best = (i, rank)
        if best is None:
            break
        i = best[0]
        parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2 :]
    if len(parts) != 2:
        raise SystemExit(f"token {token!r} of rank {max_rank} is not one merge of lower ranks")
    return parts


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, out_dir = sys.argv[1], sys.argv[2]
    ranks = read_ranks(source)
    chars = byte_chars()
    spell = lambda b: "".join(chars[x] for x in b)
    vocab = {spell(token): rank for token, rank in ranks.items()}
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) > 1:
            left, right = last_merge(ranks, token, rank)
            merges.append([spell(left), spell(right)])
    n = len(vocab)
    specials = ["<|endoftext|>", "<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    added = [
        {
            "id": n + i,
            "content": t,
            "single_word": False,
            "lstrip": t == "<mask>",
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for i, t in enumerate(specials)
    ]
    ids = {t: n + i for i, t in enumerate(specials)}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "ByteLevel",
            "add_prefix_space": False,
            "trim_offsets": True,
            "use_regex": True,
        },
        "post_processor": {
            "type": "RobertaProcessing",
            "sep": ["</s>", ids["</s>"]],
            "cls": ["<s>", ids["<s>"]],
            "trim_offsets": True,
            "add_prefix_space": False,
        },
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": merges,
        },
    }
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "tokenizer.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    os.replace(path + ".tmp", path)
    print(f"{path}: {n} tokens, {len(merges)} merges, {len(specials)} special tokens")


if __name__ == "__main__":
    main()
