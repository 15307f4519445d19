#!/usr/bin/env python3
"""The book's chapter-5 run in PyTorch, as a reference for scripts/reproduce-chapter5 on the same machine.

GPT-2 small at context 256 (the book's GPTModel: ../shared/bench/torch_gpt_ref.py's GPT), the-verdict's
GPT-2 tokens (first 4,612 for training, the rest for validation, as the tokenize job's 90% split),
batch 2, stride 256, AdamW lr 4e-4 and weight decay 0.1, 10 epochs of shuffled windows, train/val
loss over 5 batches without dropout before training and every 5 steps. One JSON line per evaluation.
--init torch keeps PyTorch's module defaults (the book's); --init gpt2 re-draws weights from
normal(0, 0.02) as GPT-2 and nanoGPT do.

usage: /usr/bin/python3 scripts/chapter5-torch.py [--init torch|gpt2] [--steps 90] [--threads 2]
(needs Debian's python3-torch)
"""
import argparse, importlib.util, json, os, time
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reference_gpt():
    path = os.path.join(ROOT, "..", "shared", "bench", "torch_gpt_ref.py")
    spec = importlib.util.spec_from_file_location("torch_gpt_ref", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GPT


def windows(ids, length=256):
    return [(ids[i:i + length], ids[i + 1:i + length + 1]) for i in range(0, len(ids) - length, length)]


def batches(ws, shuffle, size=2):
    order = torch.randperm(len(ws)).tolist() if shuffle else list(range(len(ws)))
    out = []
    for i in range(0, len(order) - size + 1, size):
        chosen = [ws[j] for j in order[i:i + size]]
        out.append((torch.tensor([x for x, _ in chosen]), torch.tensor([y for _, y in chosen])))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--init", choices=["torch", "gpt2"], default="torch")
    p.add_argument("--steps", type=int, default=90)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    tokens = os.path.join(ROOT, "model", "src", "test", "resources", "the-verdict.tokens.txt")
    ids = [int(s) for s in open(tokens).read().split()]
    train, val = windows(ids[:4612]), windows(ids[4612:])
    torch.manual_seed(123)
    model = reference_gpt()(50257, 256, 768, 12, 12, 0.1)
    if a.init == "gpt2":
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
    opt = torch.optim.AdamW(model.parameters(), lr=4e-4, weight_decay=0.1)

    def loss(x, y):
        return nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())

    def evaluate(ws):
        model.eval()
        with torch.no_grad():
            bs = batches(ws, False)[:5]
            value = sum(loss(x, y).item() for x, y in bs) / len(bs)
        model.train()
        return round(value, 3)

    started, step = time.time(), 0
    print(json.dumps({"init": a.init, "step": 0, "train_loss": evaluate(train), "val_loss": evaluate(val)}), flush=True)
    while step < a.steps:
        for x, y in batches(train, True):
            opt.zero_grad()
            loss(x, y).backward()
            opt.step()
            step += 1
            if step % 5 == 0 or step == a.steps:
                print(json.dumps({"init": a.init, "step": step, "train_loss": evaluate(train),
                                  "val_loss": evaluate(val), "seconds": round(time.time() - started, 1)}), flush=True)
            if step == a.steps:
                break


if __name__ == "__main__":
    main()
