#!/usr/bin/env python3
"""Read `bertprep export` output with each trainer's own reader and hold every field of every
row to the Parquet build it came from.

Usage:

    python3 scripts/check_export.py BUILD_DIR hdf5 DIR
    python3 scripts/check_export.py BUILD_DIR tfrecord DIR [--gzip]
    python3 scripts/check_export.py BUILD_DIR mds DIR [--same-bytes-as-mdswriter]

Readers (``pip install pyarrow numpy h5py tensorflow-cpu mosaicml-streaming``):

  hdf5      h5py, read the way NVIDIA DeepLearningExamples' ``pretraining_dataset`` reads:
            ``f[key][:]`` for its six keys, then per row the masked-LM labels rebuilt from
            ``masked_lm_positions`` up to the first zero position.
  tfrecord  TensorFlow's ``TFRecordDataset`` (which checks the framing's CRCs) and
            ``parse_single_example`` with Google BERT's feature spec from run_pretraining.py.
  mds       ``streaming.StreamingDataset(local=DIR)``, every sample by index; with
            ``--same-bytes-as-mdswriter`` the rows are also written with streaming's own
            ``MDSWriter`` and every shard file must be byte-identical to ours. A build of
            ``--masking dynamic`` is held to ModernBERT's pre-tokenised layout: one column
            ``input_ids``, read as ModernBERT's ``text_data.py`` reads it
            (``np.frombuffer(sample["input_ids"], dtype=np.int64)``), the row's real tokens.

Prints ``OK <format> <rows> rows`` and exits 0, or prints the first difference and exits 1.
"""

import json
import os
import sys
import tempfile

import numpy as np
import pyarrow.parquet as pq


def fail(message):
    print(f"FAIL {message}", file=sys.stderr)
    sys.exit(1)


def source_rows(build):
    """The build's rows in manifest order, as numpy arrays."""
    manifest = json.load(open(os.path.join(build, "manifest.json")))
    config = manifest["config"]
    rows = []
    for shard in manifest["shards"]:
        table = pq.read_table(os.path.join(build, shard["file"]))
        cols = {name: table.column(name).to_pylist() for name in table.column_names}
        for i in range(table.num_rows):
            rows.append({name: np.asarray(values[i]) for name, values in cols.items()})
    return rows, config["max_seq_len"], config["max_predictions"]


def predictions(labels, max_predictions):
    positions = np.nonzero(labels != -100)[0]
    padded_pos = np.zeros(max_predictions, np.int64)
    padded_ids = np.zeros(max_predictions, np.int64)
    padded_pos[: len(positions)] = positions
    padded_ids[: len(positions)] = labels[positions]
    return padded_pos, padded_ids, len(positions)


def expect_equal(what, got, want):
    if not np.array_equal(np.asarray(got), np.asarray(want)):
        fail(f"{what}: {np.asarray(got).tolist()} != {np.asarray(want).tolist()}")


def check_hdf5(rows, seq_len, max_pred, out):
    import h5py

    keys = ["input_ids", "input_mask", "segment_ids", "masked_lm_positions", "masked_lm_ids",
            "next_sentence_labels"]
    dtypes = ["int32", "int8", "int8", "int32", "int32", "int8"]
    # NVIDIA's trainer takes the files whose names contain "training", sorted.
    files = sorted(f for f in os.listdir(out)
                   if os.path.isfile(os.path.join(out, f)) and "training" in f)
    index = 0
    for name in files:
        f = h5py.File(os.path.join(out, name), "r")
        for key, dtype in zip(keys, dtypes):
            if f[key].dtype != np.dtype(dtype):
                fail(f"{name}: {key} is {f[key].dtype}, NVIDIA writes {dtype}")
            if f[key].compression != "gzip":
                fail(f"{name}: {key} is not gzip-compressed")
        inputs = [np.asarray(f[key][:]) for key in keys]
        n = inputs[0].shape[0]
        shapes = [a.shape for a in inputs]
        want = [(n, seq_len)] * 3 + [(n, max_pred)] * 2 + [(n,)]
        if shapes != want:
            fail(f"{name}: shapes {shapes}, NVIDIA's are {want}")
        for i in range(n):
            ids, mask, seg, pos, lm_ids, nsl = [a[i].astype(np.int64) for a in inputs]
            # NVIDIA's __getitem__: labels -1 except at the positions before the first 0.
            labels = np.full(ids.shape, -1)
            end = max_pred
            padded = np.nonzero(pos == 0)[0]
            if len(padded) != 0:
                end = padded[0]
            labels[pos[:end]] = lm_ids[:end]
            row = rows[index]
            where = f"{name} row {i}"
            expect_equal(f"{where} input_ids", ids, row["input_ids"])
            expect_equal(f"{where} input_mask", mask, row["attention_mask"])
            expect_equal(f"{where} segment_ids", seg, row["token_type_ids"])
            expect_equal(f"{where} labels", np.where(labels == -1, -100, labels), row["labels"])
            expect_equal(f"{where} next_sentence_labels", nsl, row["next_sentence_label"])
            index += 1
    return index


def check_tfrecord(rows, seq_len, max_pred, out, gzip):
    import tensorflow as tf

    # Google BERT run_pretraining.py's input_fn_builder feature spec.
    spec = {
        "input_ids": tf.io.FixedLenFeature([seq_len], tf.int64),
        "input_mask": tf.io.FixedLenFeature([seq_len], tf.int64),
        "segment_ids": tf.io.FixedLenFeature([seq_len], tf.int64),
        "masked_lm_positions": tf.io.FixedLenFeature([max_pred], tf.int64),
        "masked_lm_ids": tf.io.FixedLenFeature([max_pred], tf.int64),
        "masked_lm_weights": tf.io.FixedLenFeature([max_pred], tf.float32),
        "next_sentence_labels": tf.io.FixedLenFeature([1], tf.int64),
    }
    files = sorted(os.path.join(out, f) for f in os.listdir(out) if ".tfrecord" in f)
    records = tf.data.TFRecordDataset(files, compression_type="GZIP" if gzip else "")
    index = 0
    for record in records:
        example = {k: v.numpy() for k, v in tf.io.parse_single_example(record, spec).items()}
        row = rows[index]
        where = f"record {index}"
        pos, ids, count = predictions(row["labels"], max_pred)
        weights = np.zeros(max_pred, np.float32)
        weights[:count] = 1.0
        expect_equal(f"{where} input_ids", example["input_ids"], row["input_ids"])
        expect_equal(f"{where} input_mask", example["input_mask"], row["attention_mask"])
        expect_equal(f"{where} segment_ids", example["segment_ids"], row["token_type_ids"])
        expect_equal(f"{where} masked_lm_positions", example["masked_lm_positions"], pos)
        expect_equal(f"{where} masked_lm_ids", example["masked_lm_ids"], ids)
        expect_equal(f"{where} masked_lm_weights", example["masked_lm_weights"], weights)
        expect_equal(f"{where} next_sentence_labels", example["next_sentence_labels"],
                     [row["next_sentence_label"]])
        index += 1
    return index


MDS_COLUMNS = ["attention_mask", "input_ids", "labels", "next_sentence_label", "num_tokens",
               "source", "token_type_ids"]


def real_tokens(row):
    return row["input_ids"][: int(row["num_tokens"])].astype(np.int64)


def check_mds(rows, seq_len, out, same_bytes):
    from streaming import StreamingDataset

    dataset = StreamingDataset(local=out, shuffle=False, batch_size=1)
    if len(dataset) != len(rows):
        fail(f"StreamingDataset holds {len(dataset)} samples, the build {len(rows)}")
    index = json.load(open(os.path.join(out, "index.json")))
    for k, shard in enumerate(index["shards"]):
        if shard["raw_data"]["basename"] != f"shard.{k:05d}.mds":
            fail(f"index.json shard {k} is {shard['raw_data']['basename']}, not MDSWriter's "
                 f"shard.{k:05d}.mds")
    tokens = index["shards"][0]["column_names"] == ["input_ids"]
    for i in range(len(dataset) if tokens else 0):
        sample = dataset[i]
        if set(sample) != {"input_ids"}:
            fail(f"sample {i} holds {sorted(sample)}, expected input_ids alone")
        ids = np.frombuffer(sample["input_ids"], dtype=np.int64)
        expect_equal(f"sample {i} input_ids", ids, real_tokens(rows[i]))
    for i in range(0 if tokens else len(dataset)):
        sample = dataset[i]
        for column in MDS_COLUMNS:
            expect_equal(f"sample {i} {column}", sample[column], rows[i][column])
        if sample["input_ids"].dtype != np.int32 or sample["input_ids"].shape != (seq_len,):
            fail(f"sample {i} input_ids is {sample['input_ids'].dtype} {sample['input_ids'].shape}")
    if same_bytes:
        compare_with_mdswriter(rows, seq_len, out)
    return len(dataset)


def as_encoded(value, encoding):
    """A source value in the type an MDS encoding takes (`ndarray:int8:128`, `int16`, ...)."""
    if encoding == "ndarray:int64":
        return value
    if encoding.startswith("ndarray:"):
        return value.astype(encoding.split(":")[1])
    return value.item()


def compare_with_mdswriter(rows, seq_len, out):
    """Writes our rows with streaming's MDSWriter, one source shard at a time as we do, and
    holds every shard file to ours byte for byte."""
    from streaming import MDSWriter

    index = json.load(open(os.path.join(out, "index.json")))
    columns = {name: enc for name, enc in zip(index["shards"][0]["column_names"],
                                              index["shards"][0]["column_encodings"])}
    size_limit = index["shards"][0]["size_limit"]
    ours = index["shards"]
    manifest = json.load(open(os.path.join(out, "export-manifest.json")))
    by_source = {}
    for f in manifest["files"]:
        if f["source"]:
            by_source.setdefault(f["source"], []).append(f)
    first = 0
    shard_index = 0
    for source in sorted(by_source, key=lambda s: [f["file"] for f in manifest["files"]].index(
            by_source[s][0]["file"])):
        count = sum(f["rows"] for f in by_source[source])
        with tempfile.TemporaryDirectory() as tmp:
            with MDSWriter(out=tmp, columns=columns, size_limit=size_limit) as writer:
                for row in rows[first:first + count]:
                    values = dict(row, input_ids=real_tokens(row)) if len(columns) == 1 else row
                    writer.write({c: as_encoded(values[c], enc) for c, enc in columns.items()})
            theirs = json.load(open(os.path.join(tmp, "index.json")))["shards"]
            for k, shard in enumerate(theirs):
                mine = ours[shard_index + k]
                a = open(os.path.join(tmp, shard["raw_data"]["basename"]), "rb").read()
                b = open(os.path.join(out, mine["raw_data"]["basename"]), "rb").read()
                if a != b:
                    fail(f"{mine['raw_data']['basename']} differs from MDSWriter's "
                         f"{shard['raw_data']['basename']} ({len(b)} vs {len(a)} bytes)")
                for key in ("samples", "column_names", "column_encodings", "column_sizes"):
                    if shard[key] != mine[key]:
                        fail(f"index.json {key}: {mine[key]} != MDSWriter's {shard[key]}")
            shard_index += len(theirs)
        first += count


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    build, fmt, out = argv[1], argv[2], argv[3]
    flags = set(argv[4:])
    rows, seq_len, max_pred = source_rows(build)
    for row in rows:
        if row["input_ids"].dtype != np.int32:
            row["input_ids"] = row["input_ids"].astype(np.int32)
    if fmt == "hdf5":
        n = check_hdf5(rows, seq_len, max_pred, out)
    elif fmt == "tfrecord":
        n = check_tfrecord(rows, seq_len, max_pred, out, "--gzip" in flags)
    elif fmt == "mds":
        n = check_mds(rows, seq_len, out, "--same-bytes-as-mdswriter" in flags)
    else:
        fail(f"unknown format {fmt}")
    if n != len(rows):
        fail(f"{fmt}: read {n} rows, the build holds {len(rows)}")
    print(f"OK {fmt} {n} rows")


if __name__ == "__main__":
    main(sys.argv)
