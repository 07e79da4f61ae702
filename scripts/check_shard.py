#!/usr/bin/env python3
"""Validate bertprep Parquet shards independently of the Rust code.

Usage (from anywhere; needs only ``pip install pyarrow`` plus numpy):

    python3 scripts/check_shard.py SHARD.parquet [MORE.parquet ...]
    python3 scripts/check_shard.py --allow-nullable-items SHARD.parquet

For every file it checks the file key-value metadata, the exact Arrow schema
and every row, and prints one ``OK`` summary line.  On the first problem it
prints ``FAIL <file>: row <n>: <what>`` to stderr and exits with status 1
(status 2 for usage errors).

What is checked
  metadata  bertprep.schema_version == "2"; bertprep.config is JSON with an
            integer "max_seq_len" >= 5; bertprep.tokenizer_sha256 is 64 hex
            chars; bertprep.special_tokens is JSON with integer ids for
            pad, unk, cls, sep and mask (used for the row checks).
  schema    exactly these columns, in this order, with these types:
              input_ids list<int32>, token_type_ids list<int8>,
              attention_mask list<int8>, labels list<int32>,
              next_sentence_label int8, num_tokens int16, source uint64
            (``list``, not ``large_list``/fixed-size; item field name free;
            item field must be non-nullable unless --allow-nullable-items).
  rows      no nulls; every list has length max_seq_len;
            2 < num_tokens <= max_seq_len; attention_mask is 1 exactly on the
            first num_tokens positions; input_ids[0] == [CLS] and [CLS] nowhere
            else; exactly two [SEP] among the real tokens, the last real token
            is [SEP], both segments non-empty; no [PAD] among real tokens and
            only [PAD] after them; token_type_ids 0 up to and including the
            first [SEP], 1 after it up to the last [SEP], 0 on padding;
            labels are -100 or a non-special id ([UNK] allowed) (< vocab_size if the config
            has "vocab_size"); predictions only at real non-[CLS]/[SEP]
            positions; at least one prediction per row; [MASK] in input_ids
            only at predicted positions; at a predicted position input_ids is
            [MASK], the label itself (kept) or another non-special id
            (random); next_sentence_label in {0, 1}.
  summary   rows, mean num_tokens, predictions per row, shares of
            [MASK]/kept/random among predictions, share of
            next_sentence_label == 1, distinct input files in ``source``.
"""

import json
import re
import sys

try:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as e:  # pragma: no cover
    sys.exit(f"check_shard.py needs pyarrow and numpy: {e} (pip install pyarrow numpy)")

SPECIAL_NAMES = ("pad", "unk", "cls", "sep", "mask")
LIST_COLUMNS = [
    ("input_ids", pa.int32()),
    ("token_type_ids", pa.int8()),
    ("attention_mask", pa.int8()),
    ("labels", pa.int32()),
]
SCALAR_COLUMNS = [
    ("next_sentence_label", pa.int8()),
    ("num_tokens", pa.int16()),
    ("source", pa.uint64()),
]
COLUMN_ORDER = [n for n, _ in LIST_COLUMNS] + [n for n, _ in SCALAR_COLUMNS]
IGNORE = -100
BATCH_ROWS = 8192


class ShardError(Exception):
    def __init__(self, msg, row=None):
        super().__init__(msg)
        self.msg = msg
        self.row = row


def first_bad(bad_rows, row_offset, msg_fn):
    """Raise ShardError for the first True in bad_rows (1-D bool array)."""
    idx = np.flatnonzero(bad_rows)
    if idx.size:
        i = int(idx[0])
        raise ShardError(msg_fn(i), row_offset + i)


def check_metadata(pf):
    kv = {}
    schema_md = pf.schema_arrow.metadata or {}
    file_md = pf.metadata.metadata or {}
    for md in (schema_md, file_md):  # file-level key-value metadata wins
        for k, v in md.items():
            kv[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")

    def get(key):
        if key not in kv:
            have = sorted(k for k in kv if not k.startswith("ARROW:"))
            raise ShardError(f"metadata key {key!r} missing (have {have})")
        return kv[key]

    version = get("bertprep.schema_version")
    if version != "2":
        raise ShardError(f"bertprep.schema_version is {version!r}, expected '2'")

    try:
        config = json.loads(get("bertprep.config"))
    except json.JSONDecodeError as e:
        raise ShardError(f"bertprep.config is not valid JSON: {e}")
    if not isinstance(config, dict):
        raise ShardError("bertprep.config is not a JSON object")
    msl = config.get("max_seq_len")
    if not isinstance(msl, int) or isinstance(msl, bool) or msl < 5:
        raise ShardError(f"bertprep.config max_seq_len is {msl!r}, expected an integer >= 5")
    vocab_size = config.get("vocab_size")
    if vocab_size is not None and (not isinstance(vocab_size, int) or vocab_size <= 103):
        raise ShardError(f"bertprep.config vocab_size is {vocab_size!r}")

    sha = get("bertprep.tokenizer_sha256")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
        raise ShardError(f"bertprep.tokenizer_sha256 is {sha!r}, expected 64 hex digits")

    try:
        special = json.loads(get("bertprep.special_tokens"))
    except json.JSONDecodeError as e:
        raise ShardError(f"bertprep.special_tokens is not valid JSON: {e}")
    if not isinstance(special, dict):
        raise ShardError("bertprep.special_tokens is not a JSON object")
    for name in SPECIAL_NAMES:
        if not isinstance(special.get(name), int) or special[name] < 0:
            raise ShardError(
                f"bertprep.special_tokens[{name!r}] is {special.get(name)!r}, expected an id")
    return msl, vocab_size, {name: special[name] for name in SPECIAL_NAMES}


def check_schema(schema, allow_nullable_items):
    names = list(schema.names)
    if names != COLUMN_ORDER:
        raise ShardError(f"columns are {names}, expected exactly {COLUMN_ORDER}")
    for name, item_type in LIST_COLUMNS:
        t = schema.field(name).type
        if not pa.types.is_list(t) or t.value_type != item_type:
            raise ShardError(f"column {name!r} has type {t}, expected list<{item_type}>")
        if t.value_field.nullable and not allow_nullable_items:
            raise ShardError(
                f"column {name!r} has nullable list items ({t}); expected non-null "
                f"{item_type} items (use --allow-nullable-items to accept)")
    for name, want in SCALAR_COLUMNS:
        t = schema.field(name).type
        if t != want:
            raise ShardError(f"column {name!r} has type {t}, expected {want}")


def as_matrix(arr, name, msl, row_offset):
    """Turn a ListArray with rows of length msl into an (n, msl) numpy array."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        first_bad(arr.is_null().to_numpy(zero_copy_only=False), row_offset,
                  lambda i: f"{name} is null")
    lengths = arr.value_lengths().to_numpy(zero_copy_only=False)
    first_bad(lengths != msl, row_offset,
              lambda i: f"{name} has length {lengths[i]}, expected max_seq_len={msl}")
    values = arr.flatten()
    if values.null_count:
        nulls = values.is_null().to_numpy(zero_copy_only=False).reshape(len(arr), msl)
        first_bad(nulls.any(axis=1), row_offset, lambda i: f"{name} contains a null item")
    return values.to_numpy(zero_copy_only=False).reshape(len(arr), msl)


def as_vector(arr, name, row_offset):
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        first_bad(arr.is_null().to_numpy(zero_copy_only=False), row_offset,
                  lambda i: f"{name} is null")
    return arr.to_numpy(zero_copy_only=False)


def check_batch(batch, msl, vocab_size, sp, row_offset, stats):
    PAD, CLS, SEP, MASK = sp["pad"], sp["cls"], sp["sep"], sp["mask"]
    specials = np.array(sorted(sp.values()))
    # [UNK] is a real token of the text: it may be predicted (as in Google's code).
    label_specials = np.array(sorted(v for k, v in sp.items() if k != "unk"))

    ids = as_matrix(batch.column("input_ids"), "input_ids", msl, row_offset).astype(np.int64)
    tt = as_matrix(batch.column("token_type_ids"), "token_type_ids", msl, row_offset)
    am = as_matrix(batch.column("attention_mask"), "attention_mask", msl, row_offset)
    labels = as_matrix(batch.column("labels"), "labels", msl, row_offset).astype(np.int64)
    nsp = as_vector(batch.column("next_sentence_label"), "next_sentence_label", row_offset)
    nt = as_vector(batch.column("num_tokens"), "num_tokens", row_offset).astype(np.int64)
    source = as_vector(batch.column("source"), "source", row_offset)
    n = len(nt)
    rows = np.arange(n)

    first_bad((nt < 3) | (nt > msl), row_offset,
              lambda i: f"num_tokens={nt[i]} outside 3..={msl}")

    pos = np.arange(msl)[None, :]
    real = pos < nt[:, None]

    def bad_pos(mask2d, what, show=None):
        rowbad = mask2d.any(axis=1)

        def msg(i):
            p = int(np.flatnonzero(mask2d[i])[0])
            extra = f" ({show[i, p]})" if show is not None else ""
            return f"{what} at position {p}{extra} (num_tokens={nt[i]})"
        first_bad(rowbad, row_offset, msg)

    # attention_mask
    bad_pos(am != real.astype(am.dtype), "attention_mask is wrong", am)

    # input_ids structure
    first_bad(ids[:, 0] != CLS, row_offset, lambda i: f"input_ids[0] is {ids[i, 0]}, expected [CLS]={CLS}")
    bad_pos((ids == CLS) & (pos > 0), "[CLS] not at position 0")
    bad_pos((ids < 0) | ((ids >= vocab_size) if vocab_size else False), "input id out of range", ids)
    is_sep = (ids == SEP) & real
    n_sep = is_sep.sum(axis=1)
    first_bad(n_sep != 2, row_offset, lambda i: f"{n_sep[i]} [SEP] among real tokens, expected 2")
    last = ids[rows, nt - 1]
    first_bad(last != SEP, row_offset,
              lambda i: f"last real token (position {nt[i] - 1}) is {last[i]}, expected [SEP]={SEP}")
    sep1 = np.argmax(is_sep, axis=1)  # first [SEP]
    first_bad(sep1 < 2, row_offset, lambda i: "segment A is empty")
    first_bad(nt - 1 - sep1 < 2, row_offset, lambda i: "segment B is empty")
    bad_pos(real & (ids == PAD), "[PAD] among real tokens")
    bad_pos(~real & (ids != PAD), "non-[PAD] id after num_tokens", ids)

    # token_type_ids
    want_tt = (real & (pos > sep1[:, None])).astype(tt.dtype)
    bad_pos(tt != want_tt, "token_type_ids is wrong", tt)

    # labels
    pred = labels != IGNORE
    bad_pos(pred & ~real, "label on padding", labels)
    bad_pos(pred & (pos == 0), "label on [CLS]", labels)
    bad_pos(pred & is_sep, "label on [SEP]", labels)
    n_pred = pred.sum(axis=1)
    first_bad(n_pred == 0, row_offset, lambda i: "no predictions (all labels are -100)")
    bad_pos(pred & (labels < 0), "negative label other than -100", labels)
    if vocab_size:
        bad_pos(pred & (labels >= vocab_size), f"label >= vocab_size={vocab_size}", labels)
    bad_pos(pred & np.isin(labels, label_specials), "label is a special-token id", labels)
    bad_pos(~pred & (ids == MASK), "[MASK] at a position without a label")
    masked = pred & (ids == MASK)
    kept = pred & (ids == labels)
    rand = pred & ~masked & ~kept
    bad_pos(rand & np.isin(ids, specials), "predicted position replaced by a special id", ids)

    # next_sentence_label
    first_bad((nsp != 0) & (nsp != 1), row_offset,
              lambda i: f"next_sentence_label is {nsp[i]}, expected 0 or 1")

    stats["rows"] += n
    stats["tokens"] += int(nt.sum())
    stats["pred"] += int(n_pred.sum())
    stats["masked"] += int(masked.sum())
    stats["kept"] += int(kept.sum())
    stats["random"] += int(rand.sum())
    stats["nsp1"] += int((nsp == 1).sum())
    stats["files"].update(np.unique(source >> np.uint64(32)).tolist())


def check_file(path, allow_nullable_items):
    try:
        pf = pq.ParquetFile(path)
    except Exception as e:
        raise ShardError(f"cannot open as Parquet: {e}")
    msl, vocab_size, special = check_metadata(pf)
    check_schema(pf.schema_arrow, allow_nullable_items)
    if pf.metadata.num_rows == 0:
        raise ShardError("shard has no rows")

    stats = dict(rows=0, tokens=0, pred=0, masked=0, kept=0, random=0, nsp1=0, files=set())
    offset = 0
    for batch in pf.iter_batches(batch_size=BATCH_ROWS):
        check_batch(batch, msl, vocab_size, special, offset, stats)
        offset += batch.num_rows
    if stats["rows"] != pf.metadata.num_rows:
        raise ShardError(f"read {stats['rows']} rows but footer says {pf.metadata.num_rows}")

    r, p = stats["rows"], stats["pred"]
    print(f"OK {path}: {r} rows, max_seq_len={msl}, "
          f"mean num_tokens={stats['tokens'] / r:.1f}, "
          f"predictions/row={p / r:.2f} "
          f"(mask {stats['masked'] / p:.1%}, kept {stats['kept'] / p:.1%}, "
          f"random {stats['random'] / p:.1%}), "
          f"is_random_next={stats['nsp1'] / r:.1%}, "
          f"input files={len(stats['files'])}")


def main(argv):
    args = argv[1:]
    allow_nullable_items = False
    if "--allow-nullable-items" in args:
        allow_nullable_items = True
        args = [a for a in args if a != "--allow-nullable-items"]
    if not args or any(a in ("-h", "--help") for a in args):
        print(__doc__, file=sys.stderr)
        return 2
    for path in args:
        try:
            check_file(path, allow_nullable_items)
        except ShardError as e:
            where = f"row {e.row}: " if e.row is not None else ""
            print(f"FAIL {path}: {where}{e.msg}", file=sys.stderr)
            return 1
        except OSError as e:
            print(f"FAIL {path}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
