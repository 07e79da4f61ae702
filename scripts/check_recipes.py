#!/usr/bin/env python3
"""Trains a step of `transformers`' BertForMaskedLM on RoBERTa-style shards, as they are.

    python3 scripts/check_recipes.py BUILD_DIR

BUILD_DIR is a `bertprep build --objective none --masking dynamic --padding none` output. The
shards are opened with `datasets.load_dataset("parquet", ...)`, batched by
`DataCollatorForLanguageModeling` (which pads to the longest row, draws masks at 15% and reads
our `special_tokens_mask` column so that [CLS], [SEP] and [PAD] are never masked) and fed to a
small `BertForMaskedLM` for one optimiser step. Checks on the way: every row is stored at its
real length with an all-ones attention mask; no [MASK] is stored; the collator's labels are
-100 on every special position; the loss is finite and the step changes the weights. Prints
`ok: ...` and exits 0, or says what failed and exits 1.
"""

import glob
import math
import os
import sys

import datasets
import torch
from transformers import (
    BertConfig,
    BertForMaskedLM,
    DataCollatorForLanguageModeling,
    PreTrainedTokenizerFast,
)


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def main():
    build = sys.argv[1]
    files = sorted(glob.glob(os.path.join(build, "shard-*.parquet")))
    if not files:
        fail(f"no shards in {build}")
    rows = datasets.load_dataset("parquet", data_files=files, split="train")
    for name in ["labels", "next_sentence_label", "sentence_order_label"]:
        if name in rows.column_names:
            fail(f"column {name} in a --objective none --masking dynamic build")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=os.path.join(build, "tokenizer.json"),
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    specials = {tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id}
    for i, row in enumerate(rows):
        ids = row["input_ids"]
        if len(ids) != row["num_tokens"] or len(row["attention_mask"]) != len(ids):
            fail(f"row {i}: lists of {len(ids)} entries, num_tokens {row['num_tokens']}")
        if set(row["attention_mask"]) != {1} or set(row["token_type_ids"]) != {0}:
            fail(f"row {i}: attention_mask or token_type_ids not all 1 / 0")
        if tokenizer.mask_token_id in ids:
            fail(f"row {i}: a stored [MASK]")
        want = [int(t in specials) for t in ids]
        if row["special_tokens_mask"] != want:
            fail(f"row {i}: special_tokens_mask differs from the ids' special tokens")
        if ids[0] != tokenizer.cls_token_id or ids[-1] != tokenizer.sep_token_id:
            fail(f"row {i}: not [CLS] ... [SEP]")

    torch.manual_seed(0)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15)
    keep = ["input_ids", "attention_mask", "token_type_ids", "special_tokens_mask"]
    features = [{k: rows[i][k] for k in keep} for i in range(min(8, len(rows)))]
    batch = collator(features)
    longest = max(len(f["input_ids"]) for f in features)
    if tuple(batch["input_ids"].shape) != (len(features), longest):
        fail(f"batch of shape {tuple(batch['input_ids'].shape)}, expected padded to {longest}")
    original = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(f["input_ids"]) for f in features],
        batch_first=True,
        padding_value=tokenizer.pad_token_id,
    )
    special = sum(original == t for t in specials).bool()
    if (batch["labels"][special] != -100).any():
        fail("the collator put a label on a special position")
    predicted = int((batch["labels"] != -100).sum())
    if predicted == 0:
        fail("the collator predicted nothing")

    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=max(512, longest),
    )
    model = BertForMaskedLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = model.bert.embeddings.word_embeddings.weight.detach().clone()
    out = model(**batch)
    if not math.isfinite(out.loss.item()):
        fail(f"loss {out.loss.item()}")
    out.loss.backward()
    optimizer.step()
    changed = not torch.equal(before, model.bert.embeddings.word_embeddings.weight)
    if not changed:
        fail("the step changed no weight")
    print(
        f"ok: {len(rows)} rows read by datasets; a batch of {len(features)} padded to "
        f"{longest}, {predicted} positions masked by DataCollatorForLanguageModeling; "
        f"BertForMaskedLM loss {out.loss.item():.3f}, one step taken"
    )


if __name__ == "__main__":
    main()
