#!/usr/bin/env python3
"""Generate the LAMB parity reference for bert-train's `--optimizer lamb`.

Starts from the model, weights and batch of `crates/bert-train/tests/golden/train/`
(`make_train_reference.py`) and takes three LAMB steps on that batch, each after
`clip_grad_norm_(max_norm=0.5)`, with lr 1e-3, betas 0.9/0.999, eps 1e-6 and weight decay
0.01 except on biases and LayerNorm weights. LAMB is written here from the equations of
You et al. 2019 ("Large Batch Optimization for Deep Learning: Training BERT in 76 minutes",
Algorithm 2), as NVIDIA's BERT recipe uses it, not taken from a library:

    m <- b1 m + (1 - b1) g                 v <- b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t)                 v_hat = v / (1 - b2^t)
    u = m_hat / (sqrt(v_hat) + eps) + wd w          (wd = 0 on biases and LayerNorm)
    trust = ||w|| / ||u||   if both are positive, else 1;  1 on biases and LayerNorm
    w <- w - lr trust u

Writes `lamb.safetensors` beside the reference: `lamb.NAME`, every parameter after the three
steps, and `lamb.grad_norms`, the three norms before clipping. The Rust test compares within
1e-5. Rerun from the repository root with `pip install torch transformers safetensors`:

    python3 scripts/make_lamb_reference.py
"""

import json
import os

import torch
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForPreTraining

DIR = os.path.join("crates", "bert-train", "tests", "golden", "train")
STEPS, LR, BETAS, EPS, WD, MAX_NORM = 3, 1e-3, (0.9, 0.999), 1e-6, 0.01, 0.5


def lamb_step(params, state, t):
    """One LAMB update of `params` (name -> tensor with .grad), in float64 for the reference."""
    b1, b2 = BETAS
    with torch.no_grad():
        for name, p in params.items():
            g = p.grad.double()
            m, v = state.setdefault(name, (torch.zeros_like(g), torch.zeros_like(g)))
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            m_hat = m / (1 - b1**t)
            v_hat = v / (1 - b2**t)
            w = p.double()
            exempt = name.endswith("bias") or "LayerNorm" in name
            u = m_hat / (v_hat.sqrt() + EPS)
            if not exempt:
                u = u + WD * w
            trust = 1.0
            if not exempt:
                w_norm, u_norm = w.norm(), u.norm()
                if w_norm > 0 and u_norm > 0:
                    trust = float(w_norm / u_norm)
            p.copy_((w - LR * trust * u).float())


def main():
    with open(os.path.join(DIR, "config.json")) as f:
        config = BertConfig(**json.load(f))
    config._attn_implementation = "eager"
    ref = load_file(os.path.join(DIR, "reference.safetensors"))
    model = BertForPreTraining(config)
    model.eval()
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(ref[f"weight.{name}"])
    batch = {k[len("batch.") :]: v.long() for k, v in ref.items() if k.startswith("batch.")}

    state, norms = {}, []
    for t in range(1, STEPS + 1):
        model.zero_grad()
        out = model(**batch)
        ce = torch.nn.CrossEntropyLoss()
        mlm = ce(out.prediction_logits.view(-1, config.vocab_size), batch["labels"].view(-1))
        nsp = ce(out.seq_relationship_logits.view(-1, 2), batch["next_sentence_label"])
        (mlm + nsp).backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=MAX_NORM)))
        lamb_step(params, state, t)

    tensors = {f"lamb.{name}": p.detach().clone().contiguous() for name, p in params.items()}
    tensors["lamb.grad_norms"] = torch.tensor(norms, dtype=torch.float32)
    save_file(tensors, os.path.join(DIR, "lamb.safetensors"), metadata={"format": "pt"})
    print(f"wrote {DIR}/lamb.safetensors: {len(params)} parameters, norms {norms}")


if __name__ == "__main__":
    main()
