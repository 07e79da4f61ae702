#!/usr/bin/env python3
"""Generate the parity reference for bert-train's model, loss, gradients and optimiser.

Produces ``crates/bert-train/tests/golden/train/``:

- ``config.json`` — a tiny ``BertConfig`` (hidden 32, 2 layers, 4 heads, vocabulary 99).
- ``reference.safetensors`` — float32 / int32 tensors:
  - ``weight.NAME``: fixed random weights under ``transformers``' parameter names (the tied
    ``cls.predictions.decoder.*`` excluded), drawn N(0, 0.2) (LayerNorm weights 1 + N(0, 0.2))
    so that no value is trivially 0 or 1;
  - ``batch.*``: a fixed batch of 3 rows of length 16 with padding, token types, MLM labels
    (-100 elsewhere) and NSP labels;
  - ``out.prediction_logits`` ``[3, 16, 99]`` and ``out.seq_relationship_logits`` ``[3, 2]``
    from ``BertForPreTraining`` in eval mode (no dropout), eager attention;
  - ``out.mlm_loss``, ``out.nsp_loss``, ``out.loss`` (scalars as shape ``[1]``);
  - ``grad.NAME``: the gradient of ``loss`` for every parameter;
  - ``adamw.NAME``: every parameter after two ``torch.optim.AdamW`` steps (lr 1e-3, betas
    0.9/0.999, eps 1e-6, weight decay 0.01 except biases and LayerNorm weights) on the same
    batch, each after ``clip_grad_norm_(max_norm=0.5)``; ``adamw.grad_norms`` the two norms
    before clipping.

The Rust test (``tests/suite/train_parity.rs``) loads these and compares within 1e-4 (relative
for gradients), so CI needs no PyTorch. Rerun from the repository root with
``pip install torch transformers safetensors``:

    python3 scripts/make_train_reference.py

Deterministic for a given PyTorch version (CPU, fixed seed).
"""

import json
import os

import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForPreTraining

OUT = os.path.join("crates", "bert-train", "tests", "golden", "train")
TIED = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")


def main():
    torch.manual_seed(20240601)
    config = BertConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=48,
        max_position_embeddings=32,
        type_vocab_size=2,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        layer_norm_eps=1e-12,
        pad_token_id=0,
    )
    config._attn_implementation = "eager"
    model = BertForPreTraining(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn_like(p) * 0.2
            p.copy_(1.0 + noise if "LayerNorm.weight" in name else noise)
    model.eval()
    params = dict(model.named_parameters())
    assert not any(t in params for t in TIED), sorted(params)

    # The batch: three rows of length 16 with 16, 11 and 7 real tokens.
    lengths = [16, 11, 7]
    seq = 16
    gen = torch.Generator().manual_seed(7)
    input_ids = torch.zeros(3, seq, dtype=torch.long)
    token_type_ids = torch.zeros(3, seq, dtype=torch.long)
    attention_mask = torch.zeros(3, seq, dtype=torch.long)
    labels = torch.full((3, seq), -100, dtype=torch.long)
    for r, n in enumerate(lengths):
        input_ids[r, :n] = torch.randint(5, 99, (n,), generator=gen)
        input_ids[r, 0] = 1  # [CLS]
        a_end = n // 2
        input_ids[r, a_end] = 2  # [SEP]
        input_ids[r, n - 1] = 2
        token_type_ids[r, a_end + 1 : n] = 1
        attention_mask[r, :n] = 1
        for i in range(1, n - 1, 3):
            if i != a_end:
                labels[r, i] = int(torch.randint(5, 99, (1,), generator=gen))
                input_ids[r, i] = 3  # [MASK]
    next_sentence_label = torch.tensor([0, 1, 0])

    def run():
        out = model(
            input_ids=input_ids,
            token_type_ids=token_type_ids,
            attention_mask=attention_mask,
            labels=labels,
            next_sentence_label=next_sentence_label,
        )
        ce = torch.nn.CrossEntropyLoss()
        mlm = ce(out.prediction_logits.view(-1, config.vocab_size), labels.view(-1))
        nsp = ce(out.seq_relationship_logits.view(-1, 2), next_sentence_label)
        return out, mlm, nsp

    tensors = {}
    for name, p in params.items():
        tensors[f"weight.{name}"] = p.detach().clone()
    tensors["batch.input_ids"] = input_ids.to(torch.int32)
    tensors["batch.token_type_ids"] = token_type_ids.to(torch.int32)
    tensors["batch.attention_mask"] = attention_mask.to(torch.int32)
    tensors["batch.labels"] = labels.to(torch.int32)
    tensors["batch.next_sentence_label"] = next_sentence_label.to(torch.int32)

    out, mlm, nsp = run()
    assert torch.allclose(out.loss, mlm + nsp)
    out.loss.backward()
    tensors["out.prediction_logits"] = out.prediction_logits.detach()
    tensors["out.seq_relationship_logits"] = out.seq_relationship_logits.detach()
    tensors["out.mlm_loss"] = mlm.detach().reshape(1)
    tensors["out.nsp_loss"] = nsp.detach().reshape(1)
    tensors["out.loss"] = out.loss.detach().reshape(1)
    for name, p in params.items():
        assert p.grad is not None, name
        tensors[f"grad.{name}"] = p.grad.detach().clone()

    # Two AdamW steps with clipping, as bert-train does them.
    decay = [p for n, p in params.items() if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in params.items() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": 0.01},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-6,
    )
    norms = []
    for step in range(2):
        if step > 0:
            opt.zero_grad()
            out, _, _ = run()
            out.loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)))
        opt.step()
    for name, p in params.items():
        tensors[f"adamw.{name}"] = p.detach().clone()
    tensors["adamw.grad_norms"] = torch.tensor(norms, dtype=torch.float32)

    os.makedirs(OUT, exist_ok=True)
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(OUT, "reference.safetensors"), metadata={"format": "pt"})
    keys = [
        "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
        "intermediate_size", "hidden_act", "hidden_dropout_prob",
        "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
        "initializer_range", "layer_norm_eps", "pad_token_id",
    ]
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump({k: getattr(config, k) for k in keys}, f, indent=2)
        f.write("\n")
    print(
        f"wrote {OUT}: loss {float(out.loss.detach()):.6f}, {len(params)} parameters, "
        f"grad norms {norms}, torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
