#!/usr/bin/env python3
"""Train the same vocabulary as `bertprep vocab` with the Python `tokenizers` package and compare.

    python3 scripts/compare_vocab.py BERTPREP CORPUS MODEL VOCAB_SIZE OUT_DIR
    python3 scripts/compare_vocab.py --diff OURS.json THEIRS.json MODEL

The first form runs `BERTPREP vocab --in CORPUS --model MODEL --vocab-size VOCAB_SIZE --out
OUT_DIR/rust`, then feeds the very same text to `tokenizers` (Python): the sentences of
`BERTPREP sentences CORPUS` (the splitter `vocab` uses), for `bpe` with the space before every
sentence after a document's first, as `build` encodes them and `vocab` counts them. Each model
has the same pipeline as ours: for `wordpiece` `BertWordPieceTokenizer`'s (BERT normaliser, BERT
pre-tokeniser, WordPieceTrainer with limit_alphabet 1000), for `bpe` `ByteLevelBPETokenizer`'s
(byte-level, initial alphabet of the 256 bytes), for `unigram` `SentencePieceUnigramTokenizer`'s
(NMT + NFKC + collapsed spaces, Metaspace). Both train with min_frequency 2 and the same special
tokens. Prints both times (the Python time excludes splitting: its sentences are read from a
file). The second form compares two `tokenizer.json` files of MODEL as they are.

Every difference is listed, in three groups, each with what explains it:

- tokens only in ours and tokens only in theirs: two merges (or Unigram pieces) tied at the size
  limit, broken differently (the trainers break ties by pair ids, which follow the numbering of
  the `##` characters). Such tokens are among the last learned: allowed while each side has at
  most 1% of the vocabulary to itself and every such token is in the last 1% of its side's ids.
- tokens at other ids: the Python trainer numbers some tokens in hash order, which changes from
  run to run of Python itself: the alphabet (single characters and their `##` forms) of
  WordPiece, and with it the order of WordPiece merges of equal count (a token moved within a
  run of at most 512 ids that both vocabularies fill with the same tokens); Unigram pieces of
  near-equal scores (at most 0.01 apart from the piece at the other id). Ids after a token only
  in one side shift with it. Any other move is unexplained.

Exits 1 when a difference is unexplained or beyond those limits, naming it.
"""

import json
import subprocess
import sys
import time

SPECIALS = {
    "wordpiece": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    "bpe": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    "unigram": ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"],
}

# Share of the vocabulary that may be in one side only, and how close to the end of the ids.
TIED_SHARE = 0.01
# Largest score gap between a moved Unigram piece and the piece at its other id.
NEAR_SCORE = 0.01
# Longest run of ids within which WordPiece merges of equal count may come in another order.
REORDER_SPAN = 512


def python_tokenizer(model, vocab_size):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    specials = SPECIALS[model]
    if model == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True
        )
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocab_size, min_frequency=2, special_tokens=specials,
            limit_alphabet=1000, continuing_subword_prefix="##", show_progress=False,
        )
    elif model == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, min_frequency=2, special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
        )
    else:
        tok = Tokenizer(models.Unigram())
        tok.normalizer = normalizers.Sequence(
            [normalizers.Nmt(), normalizers.NFKC(), normalizers.Replace(" {2,}", " ")]
        )
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>",
            show_progress=False,
        )
    return tok, trainer


def training_text(lines, model):
    """The sentences as `vocab` counts them: blank lines end documents; for `bpe` a sentence
    after its document's first has the space that was before it in the text."""
    text, first = [], True
    for line in lines:
        if not line:
            first = True
            continue
        text.append(line if first or model != "bpe" else " " + line)
        first = False
    return text


def vocab_of(tokenizer_json):
    """Token -> id, added tokens included, and Unigram token -> score, from a tokenizer.json."""
    model = tokenizer_json["model"]
    if model["type"] == "Unigram":
        vocab = {t: i for i, (t, _) in enumerate(model["vocab"])}
        scores = {t: s for t, s in model["vocab"]}
    else:
        vocab = dict(model["vocab"])
        scores = {}
    for added in tokenizer_json.get("added_tokens") or []:
        vocab[added["content"]] = added["id"]
    return vocab, scores


def permutation_blocks(mine, theirs):
    """For each token, the length of the run of ids around it that both vocabularies fill with
    the same tokens (in another order); tokens of runs that hold a token only one side has are
    left out."""
    ours_at = {i: t for t, i in mine.items()}
    theirs_at = {i: t for t, i in theirs.items()}
    blocks, start, pending = {}, 0, set()
    for i in range(max(len(ours_at), len(theirs_at))):
        for t in (ours_at.get(i), theirs_at.get(i)):
            if t is not None:
                pending ^= {t}
        if not pending:
            run = [ours_at[j] for j in range(start, i + 1) if j in ours_at]
            if all(t in theirs for t in run):
                for t in run:
                    blocks[t] = i + 1 - start
            start = i + 1
    return blocks


def is_alphabet(token):
    return len(token) == 1 or (token.startswith("##") and len(token) == 3)


def compare(ours_json, theirs_json, model):
    """Prints every difference grouped with its explanation; returns the unexplained ones."""
    mine, my_scores = vocab_of(ours_json)
    theirs, their_scores = vocab_of(theirs_json)
    size = max(len(mine), len(theirs))
    allowed = max(1, int(size * TIED_SHARE))
    problems = []
    print(
        f"  vocabularies: {len(mine)} vs {len(theirs)} entries, same tokens "
        f"{set(mine) == set(theirs)}, same ids {mine == theirs}"
    )

    only_ours = sorted(set(mine) - set(theirs), key=mine.get)
    only_theirs = sorted(set(theirs) - set(mine), key=theirs.get)
    for name, only, ids, n in [
        ("bertprep", only_ours, mine, len(mine)),
        ("Python", only_theirs, theirs, len(theirs)),
    ]:
        if not only:
            continue
        late = n - allowed
        print(
            f"  only in {name} ({len(only)}; ties at the size limit, allowed up to {allowed} "
            f"among the last {allowed} ids): "
            + ", ".join(f"{t!r}@{ids[t]}" for t in only)
        )
        if len(only) > allowed:
            problems.append(f"{len(only)} tokens only in {name}, more than {allowed}")
        early = [t for t in only if ids[t] < late]
        if early:
            problems.append(
                f"tokens only in {name} before the last {allowed} ids: "
                + ", ".join(f"{t!r}@{ids[t]}" for t in early)
            )

    # Ids from the first token only in one side on shift with it.
    shifted_from = min(
        [mine[t] for t in only_ours] + [theirs[t] for t in only_theirs] + [size]
    )
    moved = sorted((t for t in mine if t in theirs and mine[t] != theirs[t]), key=mine.get)
    by_id = {i: t for t, i in mine.items()}
    block = permutation_blocks(mine, theirs)
    groups = {"alphabet (hash order)": [], "equal-count merges in another order": [],
              "near-equal Unigram scores": [], "after a tie at the limit": [],
              "unexplained": []}
    for t in moved:
        if min(mine[t], theirs[t]) >= shifted_from:
            groups["after a tie at the limit"].append(t)
        elif model == "wordpiece" and is_alphabet(t):
            groups["alphabet (hash order)"].append(t)
        elif model == "wordpiece" and block.get(t, REORDER_SPAN + 1) <= REORDER_SPAN:
            groups["equal-count merges in another order"].append(t)
        elif model == "unigram" and t in my_scores:
            other = by_id.get(theirs[t])
            gap = abs(my_scores[t] - my_scores.get(other, float("inf")))
            key = "near-equal Unigram scores" if gap <= NEAR_SCORE else "unexplained"
            groups[key].append(t)
        else:
            groups["unexplained"].append(t)
    if moved:
        print(f"  {len(moved)} tokens at other ids:")
    for group, tokens in groups.items():
        if tokens:
            print(
                f"    {group} ({len(tokens)}): "
                + ", ".join(f"{t!r} {mine[t]}->{theirs[t]}" for t in tokens)
            )
    if groups["unexplained"]:
        problems.append(f"{len(groups['unexplained'])} tokens at other ids unexplained")

    if my_scores and their_scores:
        common = [t for t in my_scores if t in their_scores]
        diff = max((abs(my_scores[t] - their_scores[t]) for t in common), default=0.0)
        print(f"  largest Unigram score difference {diff:.2e}")
    return problems


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--diff":
        ours_path, theirs_path, model = sys.argv[2:]
        problems = compare(
            json.load(open(ours_path, encoding="utf-8")),
            json.load(open(theirs_path, encoding="utf-8")),
            model,
        )
        finish(problems)
        return
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    from tokenizers import Tokenizer

    bertprep, corpus, model, vocab_size, out = sys.argv[1:]
    vocab_size = int(vocab_size)
    start = time.perf_counter()
    subprocess.run(
        [bertprep, "vocab", "--in", corpus, "--model", model, "--vocab-size", str(vocab_size),
         "--out", f"{out}/rust", "--overwrite"],
        check=True, capture_output=True,
    )
    rust_seconds = time.perf_counter() - start
    lines = subprocess.run(
        [bertprep, "sentences", corpus], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    sentences = training_text(lines, model)
    tok, trainer = python_tokenizer(model, vocab_size)
    start = time.perf_counter()
    tok.train_from_iterator(sentences, trainer=trainer)
    python_seconds = time.perf_counter() - start
    print(
        f"{model} {vocab_size}: bertprep vocab {rust_seconds:.2f} s (reading and splitting "
        f"included), Python tokenizers {python_seconds:.2f} s (training only), "
        f"{len(sentences)} sentences"
    )
    ours_path = f"{out}/rust/tokenizer.json"
    problems = compare(
        json.load(open(ours_path, encoding="utf-8")), json.loads(tok.to_str()), model
    )
    # Our tokenizer.json loads in transformers and encodes as `tokenizers` does.
    from transformers import PreTrainedTokenizerFast

    ours_tok = Tokenizer.from_file(ours_path)
    fast = PreTrainedTokenizerFast(tokenizer_file=ours_path)
    sample = sentences[len(sentences) // 2]
    if fast(sample)["input_ids"] != ours_tok.encode(sample).ids:
        problems.append("transformers encodes differently from tokenizers")
    finish(problems)


def finish(problems):
    for problem in problems:
        print(f"  NOT EXPLAINED: {problem}")
    print("  every difference explained" if not problems else "  differences beyond tolerance")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
