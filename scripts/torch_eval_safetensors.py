#!/usr/bin/env python3
"""Loads a GPT-2 safetensors file exported by `sparkgpt export` into PyTorch and prints, as one
JSON line, the mean next-token cross-entropy over the token ids in IDS_FILE, windowed exactly as
`sparkgpt eval` does (windows at 0, ctx, 2*ctx, ...; the last, shorter window counts).

usage: torch_eval_safetensors.py MODEL.safetensors IDS_FILE
The config (n_heads and the rest) comes from the file's "sparkgpt_config" metadata.
Needs Debian's python3-torch (and numpy); reads safetensors by its spec, no extra package.
"""
import json, math, struct, sys
import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", name
        b, end = e["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"]).copy())
    return tensors, meta


def layer_norm(x, w, b):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5)


def forward(t, cfg, idx):
    """The book's GPT, pre-LayerNorm, GELU (tanh), causal attention; dropout off."""
    T, e, h = idx.shape[1], cfg["emb_dim"], cfg["n_heads"]
    x = t["wte.weight"][idx]
    if "wpe.weight" in t:
        x = x + t["wpe.weight"][:T]
    else:  # sinusoidal, as in the original transformer
        pos = torch.arange(T, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(0, e, 2, dtype=torch.float32) * (-math.log(10000.0) / e))
        pe = torch.zeros(T, e)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        x = x + pe
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for i in range(cfg["n_layers"]):
        p = lambda n: t[f"h.{i}.{n}"]
        a = layer_norm(x, p("ln_1.weight"), p("ln_1.bias")) @ p("attn.c_attn.weight") + p("attn.c_attn.bias")
        q, k, v = (z.view(z.shape[0], T, h, e // h).transpose(1, 2) for z in a.split(e, dim=2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(e // h)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(x.shape[0], T, e)
        x = x + y @ p("attn.c_proj.weight") + p("attn.c_proj.bias")
        m = layer_norm(x, p("ln_2.weight"), p("ln_2.bias")) @ p("mlp.c_fc.weight") + p("mlp.c_fc.bias")
        x = x + F.gelu(m, approximate="tanh") @ p("mlp.c_proj.weight") + p("mlp.c_proj.bias")
    x = layer_norm(x, t["ln_f.weight"], t["ln_f.bias"])
    head = t.get("lm_head.weight", t["wte.weight"])
    return x @ head.T


def main(model_path, ids_path):
    t, meta = read_safetensors(model_path)
    cfg = json.loads(meta["sparkgpt_config"])
    ids = torch.tensor([int(s) for s in open(ids_path).read().split()])
    ctx, total, count = cfg["context_length"], 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids) - 1, ctx):
            n = min(ctx, len(ids) - 1 - start)
            logits = forward(t, cfg, ids[start:start + n][None, :])
            total += F.cross_entropy(logits[0].double(), ids[start + 1:start + n + 1], reduction="sum").item()
            count += n
    loss = total / count
    print(json.dumps({"loss": loss, "perplexity": math.exp(loss), "predictions": count}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
