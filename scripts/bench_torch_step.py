#!/usr/bin/env python3
"""Time one transformers BertForPreTraining training step on the CPU or a CUDA GPU, for
comparison with bert-train (scripts/bench_train.sh runs both on the CPU, scripts/check_gpu.sh on
a GPU).

    python3 scripts/bench_torch_step.py --model tiny|base --batch 32 --seq 128 --steps 5 \
        [--threads 2] [--device cpu|cuda] [--tf32] [--autocast bf16]

On cuda the timer synchronises the device before and after each step; float32 throughout, with
TF32 matrix products off unless --tf32 (bert-train's candle build multiplies in full float32).
With --autocast bf16 the forward pass and loss run under torch.autocast(dtype=torch.bfloat16),
the counterpart of bert-train's --precision bf16 (float32 master weights and optimiser).

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
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--tf32", action="store_true", help="allow TF32 matrix products on cuda")
    p.add_argument("--autocast", choices=["bf16"], help="forward pass under torch.autocast")
    args = p.parse_args()
    dev = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    if args.threads:
        torch.set_num_threads(args.threads)
    layers, hidden, heads = PRESETS[args.model]
    config = BertConfig(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                        intermediate_size=4 * hidden)
    torch.manual_seed(0)
    model = BertForPreTraining(config).to(dev)
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
    input_ids, labels, token_type_ids, nsp = (t.to(dev) for t in (input_ids, labels,
                                                                  token_type_ids, nsp))
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    times = []
    for _ in range(args.steps):
        sync()
        t = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.autocast == "bf16"):
            out = model(input_ids=input_ids, token_type_ids=token_type_ids, labels=labels,
                        next_sentence_label=nsp)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        sync()
        times.append(time.perf_counter() - t)
    mean = sum(times[1:]) / max(1, len(times) - 1)
    where = (f"{torch.cuda.get_device_name(dev)}{' tf32' if args.tf32 else ' fp32'}"
             if dev.type == "cuda" else f"threads {torch.get_num_threads()}")
    if args.autocast:
        where += f" autocast {args.autocast}"
    extra = (f", peak {torch.cuda.max_memory_allocated(dev) / 2**30:.2f} GiB"
             if dev.type == "cuda" else "")
    print(f"torch {torch.__version__} {args.model} batch {b} seq {s} {where}: {mean:.4f} s/step, "
          f"{b / mean:.1f} sequences/s, {b * s / mean:.0f} tokens/s{extra} "
          f"(steps: {' '.join(f'{x:.4f}' for x in times)})")


if __name__ == "__main__":
    main()
