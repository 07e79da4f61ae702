#!/usr/bin/env python3
"""Time one transformers BertForPreTraining training step on the CPU, for comparison with
bert-train (scripts/bench_train.sh runs both).

    python3 scripts/bench_torch_step.py --model tiny|base --batch 32 --seq 128 --steps 5 --threads 2

A step is what bert-train does: forward in training mode (dropout 0.1) with MLM labels on 15%
of the positions and NSP labels, backward, gradient clipping to 1.0 and an AdamW update. The
batch is random token ids over the 30,522-entry vocabulary, every row full length. Prints the
mean seconds per step over all steps but the first, and sequences per second.
Needs ``pip install torch transformers``.
"""

import argparse
import time

import torch
from transformers import BertConfig, BertForPreTraining

PRESETS = {"tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8),
           "medium": (8, 512, 8), "base": (12, 768, 12), "large": (24, 1024, 16)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="tiny", choices=sorted(PRESETS))
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    layers, hidden, heads = PRESETS[args.model]
    config = BertConfig(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                        intermediate_size=4 * hidden)
    torch.manual_seed(0)
    model = BertForPreTraining(config)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-6,
                            weight_decay=0.01)
    b, s = args.batch, args.seq
    input_ids = torch.randint(1000, config.vocab_size, (b, s))
    labels = torch.full((b, s), -100)
    masked = torch.rand(b, s) < 0.15
    labels[masked] = input_ids[masked]
    token_type_ids = torch.zeros(b, s, dtype=torch.long)
    token_type_ids[:, s // 2:] = 1
    nsp = torch.randint(0, 2, (b,))
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        out = model(input_ids=input_ids, token_type_ids=token_type_ids, labels=labels,
                    next_sentence_label=nsp)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        times.append(time.perf_counter() - t)
    mean = sum(times[1:]) / max(1, len(times) - 1)
    print(f"torch {torch.__version__} {args.model} batch {b} seq {s} threads "
          f"{torch.get_num_threads()}: {mean:.3f} s/step, {b / mean:.1f} sequences/s")


if __name__ == "__main__":
    main()
