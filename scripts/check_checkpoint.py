#!/usr/bin/env python3
"""Check that a bert-train checkpoint opens in Hugging Face transformers.

    python3 scripts/check_checkpoint.py RUN_DIR/checkpoint-STEP [--compare FILE]

Loads the directory with ``BertForPreTraining.from_pretrained(..., output_loading_info=True)``
(``BertForMaskedLM`` when ``config.json`` names it: a run on shards without a sentence pair)
and fails unless there are no missing, unexpected or mismatched keys and no errors; checks that
the MLM decoder is tied to the word embeddings (and its bias to ``cls.predictions.bias``), that
every tensor of ``model.safetensors`` equals the loaded parameter, and that ``AutoTokenizer``
opens the tokenizer files. With ``--compare FILE`` (JSON written by the Rust test: a batch and
bert-train's logits for it) it also runs the model in eval mode and compares the NSP logits (when
the model has them) and the MLM logits at the given positions within 1e-4.

Needs ``pip install torch transformers safetensors``. Prints one line and exits 0 on success.
"""

import argparse
import json
import sys

import torch
from safetensors.torch import load_file
from safetensors import safe_open
from transformers import AutoTokenizer, BertForMaskedLM, BertForPreTraining


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--compare")
    args = parser.parse_args()
    path = args.checkpoint

    with open(f"{path}/config.json") as f:
        architecture = json.load(f)["architectures"][0]
    classes = {"BertForPreTraining": BertForPreTraining, "BertForMaskedLM": BertForMaskedLM}
    if architecture not in classes:
        sys.exit(f"config.json names {architecture}")
    model, info = classes[architecture].from_pretrained(path, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        sys.exit(f"loading {path}: {problems}")
    pred = model.cls.predictions
    emb = model.bert.embeddings.word_embeddings.weight
    if pred.decoder.weight.data_ptr() != emb.data_ptr():
        sys.exit("the MLM decoder is not tied to the word embeddings")
    if pred.decoder.bias is not None and pred.decoder.bias.data_ptr() != pred.bias.data_ptr():
        sys.exit("the MLM decoder bias is not tied to cls.predictions.bias")

    file = f"{path}/model.safetensors"
    with safe_open(file, framework="pt") as f:
        metadata = f.metadata()
    if metadata.get("format") != "pt":
        sys.exit(f"{file}: metadata {metadata}, expected format pt")
    stored = load_file(file)
    state = model.state_dict()
    for name, tensor in stored.items():
        if not torch.equal(state[name], tensor):
            sys.exit(f"{name} differs after loading")
    if "cls.predictions.decoder.weight" in stored:
        sys.exit("the tied decoder weight is stored")

    tokenizer = AutoTokenizer.from_pretrained(path)
    encoded = tokenizer("the first sentence.", "the second one.")
    if encoded["input_ids"][0] != tokenizer.cls_token_id:
        sys.exit("the tokenizer does not start pairs with [CLS]")

    compared = ""
    if args.compare:
        with open(args.compare) as f:
            want = json.load(f)
        model.eval()
        with torch.no_grad():
            out = model(
                input_ids=torch.tensor(want["input_ids"]),
                token_type_ids=torch.tensor(want["token_type_ids"]),
                attention_mask=torch.tensor(want["attention_mask"]),
            )
        diff = 0.0
        if architecture == "BertForPreTraining":
            nsp = out.seq_relationship_logits
            diff = (nsp - torch.tensor(want["nsp_logits"])).abs().max().item()
            logits = out.prediction_logits
        else:
            if want["nsp_logits"] is not None:
                sys.exit("bert-train has NSP logits for a BertForMaskedLM checkpoint")
            logits = out.logits
        flat = logits.reshape(-1, logits.shape[-1])
        picked = flat[torch.tensor(want["mlm_positions"])]
        diff = max(diff, (picked - torch.tensor(want["mlm_logits"])).abs().max().item())
        if diff > 1e-4:
            sys.exit(f"logits differ from bert-train's by {diff}")
        compared = f", logits equal bert-train's (max difference {diff:.1e})"

    print(
        f"ok: {path} loads as {architecture} with no missing or unexpected keys "
        f"({len(stored)} tensors, decoder tied){compared}"
    )


if __name__ == "__main__":
    main()
