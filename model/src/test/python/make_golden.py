#!/usr/bin/env python3
"""Golden forward pass for GoldenForwardTest, computed by an independent PyTorch implementation
of the book's GPT (Raschka, "Build a Large Language Model (From Scratch)", chapter 4), and of
LLaMA's decoder as Hugging Face transformers' LlamaForCausalLM computes it (RMSNorm, rotate-half
rotary embeddings, repeat_kv grouped-query attention, SwiGLU, no biases).

For each small config it writes, under model/src/test/resources/golden/<case>/:
  config.json   the GptConfig (book keys)
  weights.txt   every parameter under the Java names (GptParams), float32 values
  expected.txt  tokens, targets, mean next-token cross-entropy and logits [batch, T, vocab]

Weights are random with a large std (0.3) and random LayerNorm scales/shifts so that every
parameter visibly affects the logits. The reference runs in float64 from the float32 weights.

usage (Debian's PyTorch): /usr/bin/python3 model/src/test/python/make_golden.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "resources", "golden"))

CASES = {
    # untied head, learned positions, Q/K/V biases
    "untied-learned-qkvbias": dict(vocab_size=23, context_length=6, emb_dim=8, n_heads=2, n_layers=2,
                                   drop_rate=0.0, qkv_bias=True, tie_weights=False, position="learned"),
    # tied head, sinusoidal positions, no Q/K/V bias
    "tied-sinusoidal": dict(vocab_size=19, context_length=5, emb_dim=12, n_heads=3, n_layers=1,
                            drop_rate=0.0, qkv_bias=False, tie_weights=True, position="sinusoidal"),
    # LLaMA, grouped-query attention (4 query heads on 2 key/value heads), untied, a small rope_theta
    # so that every frequency turns visibly within 6 positions
    "llama-gqa-untied": dict(architecture="llama", vocab_size=23, context_length=6, emb_dim=16, n_heads=4,
                             n_kv_heads=2, n_layers=2, intermediate_size=24, drop_rate=0.0, qkv_bias=False,
                             tie_weights=False, rms_norm_eps=1e-5, rope_theta=100.0),
    # LLaMA, plain multi-head attention, tied head
    "llama-mha-tied": dict(architecture="llama", vocab_size=19, context_length=5, emb_dim=12, n_heads=2,
                           n_kv_heads=2, n_layers=1, intermediate_size=20, drop_rate=0.0, qkv_bias=False,
                           tie_weights=True, rms_norm_eps=1e-6, rope_theta=10000.0),
}
# Seeds by case: those of the GPT-2 cases are the ones their files were made with.
SEEDS = {"tied-sinusoidal": 1234, "untied-learned-qkvbias": 1235, "llama-gqa-untied": 1236, "llama-mha-tied": 1237}


def rnd_of(gen):
    def rnd(*shape, std=0.3, mean=0.0):
        return (torch.randn(*shape, generator=gen) * std + mean).to(torch.float32)
    return rnd


def make_llama_weights(c, gen):
    """The Java names and [in, out] layout; Hugging Face's q_proj.weight is qW's transpose."""
    rnd = rnd_of(gen)
    v, e, i_size = c["vocab_size"], c["emb_dim"], c["intermediate_size"]
    kv = c["n_kv_heads"] * (e // c["n_heads"])
    w = {"wte": rnd(v, e)}
    for i in range(c["n_layers"]):
        p = f"h{i}"
        w[p + "attnNorm"] = rnd(e, std=0.2, mean=1.0)
        w[p + "qW"], w[p + "kW"], w[p + "vW"], w[p + "oW"] = rnd(e, e), rnd(e, kv), rnd(e, kv), rnd(e, e)
        w[p + "mlpNorm"] = rnd(e, std=0.2, mean=1.0)
        w[p + "gateW"], w[p + "upW"], w[p + "downW"] = rnd(e, i_size), rnd(e, i_size), rnd(i_size, e)
    w["lnfG"] = rnd(e, std=0.2, mean=1.0)
    if not c["tie_weights"]:
        w["lmHead"] = rnd(v, e)
    return w


def make_weights(c, gen):
    if c.get("architecture") == "llama":
        return make_llama_weights(c, gen)
    v, e, ctx = c["vocab_size"], c["emb_dim"], c["context_length"]
    rnd = rnd_of(gen)

    w = {"wte": rnd(v, e)}
    if c["position"] == "learned":
        w["wpe"] = rnd(ctx, e)
    for i in range(c["n_layers"]):
        p = f"h{i}"
        w[p + "ln1G"], w[p + "ln1B"] = rnd(e, std=0.2, mean=1.0), rnd(e, std=0.1)
        w[p + "attnW"] = rnd(e, 3 * e)
        if c["qkv_bias"]:
            w[p + "attnB"] = rnd(3 * e, std=0.1)
        w[p + "projW"], w[p + "projB"] = rnd(e, e), rnd(e, std=0.1)
        w[p + "ln2G"], w[p + "ln2B"] = rnd(e, std=0.2, mean=1.0), rnd(e, std=0.1)
        w[p + "fcW"], w[p + "fcB"] = rnd(e, 4 * e), rnd(4 * e, std=0.1)
        w[p + "fc2W"], w[p + "fc2B"] = rnd(4 * e, e), rnd(e, std=0.1)
    w["lnfG"], w["lnfB"] = rnd(e, std=0.2, mean=1.0), rnd(e, std=0.1)
    if not c["tie_weights"]:
        w["lmHead"] = rnd(v, e)
    return w


def sinusoid(ctx, e):
    pe = torch.zeros(ctx, e, dtype=torch.float64)
    for pos in range(ctx):
        for j in range(e):
            angle = pos / (10000.0 ** (2 * (j // 2) / e))
            pe[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


def forward(c, w, idx):
    """The book's GPTModel.forward, written with torch.nn.functional, in float64."""
    w = {k: t.to(torch.float64) for k, t in w.items()}
    b, t = idx.shape
    e, h = c["emb_dim"], c["n_heads"]
    hd = e // h
    pos = w["wpe"][:t] if c["position"] == "learned" else sinusoid(c["context_length"], e)[:t]
    x = F.embedding(idx, w["wte"]) + pos
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    for i in range(c["n_layers"]):
        p = f"h{i}"
        a = F.layer_norm(x, (e,), w[p + "ln1G"], w[p + "ln1B"], eps=1e-5)
        wq, wk, wv = w[p + "attnW"].split(e, dim=1)
        bq, bk, bv = w[p + "attnB"].split(e) if c["qkv_bias"] else (None, None, None)
        q, k, v = (F.linear(a, wm.T, bm).view(b, t, h, hd).transpose(1, 2)
                   for wm, bm in ((wq, bq), (wk, bk), (wv, bv)))
        scores = (q @ k.transpose(2, 3)).masked_fill(mask, float("-inf")) / math.sqrt(hd)
        ctx_vec = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, e)
        x = x + F.linear(ctx_vec, w[p + "projW"].T, w[p + "projB"])
        f = F.layer_norm(x, (e,), w[p + "ln2G"], w[p + "ln2B"], eps=1e-5)
        f = F.gelu(F.linear(f, w[p + "fcW"].T, w[p + "fcB"]), approximate="tanh")
        x = x + F.linear(f, w[p + "fc2W"].T, w[p + "fc2B"])
    x = F.layer_norm(x, (e,), w["lnfG"], w["lnfB"], eps=1e-5)
    head = w["wte"] if c["tie_weights"] else w["lmHead"]
    return x @ head.T


def rms_norm(x, weight, eps):
    """LlamaRMSNorm: x / sqrt(mean(x^2) + eps), times the weight."""
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotary(x, theta):
    """apply_rotary_pos_emb on [b, heads, t, d]: x cos + rotate_half(x) sin, positions 0..t-1."""
    d, t = x.shape[-1], x.shape[-2]
    inv_freq = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    freqs = torch.outer(torch.arange(t, dtype=torch.float64), inv_freq)
    angles = torch.cat((freqs, freqs), dim=-1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * angles.cos() + torch.cat((-x2, x1), dim=-1) * angles.sin()


def llama_forward(c, w, idx):
    """LlamaForCausalLM's forward, in float64 (weights [in, out]: x @ W is HF's x @ W_hf.T)."""
    w = {k: t.to(torch.float64) for k, t in w.items()}
    b, t = idx.shape
    e, h, kvh = c["emb_dim"], c["n_heads"], c["n_kv_heads"]
    hd = e // h
    eps, theta = c["rms_norm_eps"], c["rope_theta"]
    x = F.embedding(idx, w["wte"])
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    for i in range(c["n_layers"]):
        p = f"h{i}"
        a = rms_norm(x, w[p + "attnNorm"], eps)
        q = (a @ w[p + "qW"]).view(b, t, h, hd).transpose(1, 2)
        k = (a @ w[p + "kW"]).view(b, t, kvh, hd).transpose(1, 2)
        v = (a @ w[p + "vW"]).view(b, t, kvh, hd).transpose(1, 2)
        q, k = rotary(q, theta), rotary(k, theta)
        k, v = k.repeat_interleave(h // kvh, dim=1), v.repeat_interleave(h // kvh, dim=1)  # repeat_kv
        scores = (q @ k.transpose(2, 3) / math.sqrt(hd)).masked_fill(mask, float("-inf"))
        ctx_vec = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, e)
        x = x + ctx_vec @ w[p + "oW"]
        f = rms_norm(x, w[p + "mlpNorm"], eps)
        x = x + (F.silu(f @ w[p + "gateW"]) * (f @ w[p + "upW"])) @ w[p + "downW"]
    x = rms_norm(x, w["lnfG"], eps)
    head = w["wte"] if c["tie_weights"] else w["lmHead"]
    return x @ head.T


def fmt(t):
    return " ".join("%.9g" % float(v) for v in t.flatten().tolist())


def write_case(name, c, seed):
    gen = torch.Generator().manual_seed(seed)
    w = make_weights(c, gen)
    b, t = 2, c["context_length"]
    idx = torch.randint(0, c["vocab_size"], (b, t + 1), generator=gen)
    inputs, targets = idx[:, :-1], idx[:, 1:]
    logits = llama_forward(c, w, inputs) if c.get("architecture") == "llama" else forward(c, w, inputs)
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "weights.txt"), "w") as f:
        for k, v in w.items():
            f.write("%s %s\n%s\n" % (k, " ".join(str(s) for s in v.shape), fmt(v)))
    with open(os.path.join(d, "expected.txt"), "w") as f:
        f.write("inputs %d %d\n%s\n" % (b, t, fmt(inputs)))
        f.write("targets %d %d\n%s\n" % (b, t, fmt(targets)))
        f.write("loss 1\n%.12g\n" % loss.item())
        f.write("logits %d %d %d\n%s\n" % (b, t, c["vocab_size"], fmt(logits)))
    print(name, "loss", round(loss.item(), 6), "torch", torch.__version__)


if __name__ == "__main__":
    for case, cfg in sorted(CASES.items()):
        write_case(case, cfg, seed=SEEDS[case])
