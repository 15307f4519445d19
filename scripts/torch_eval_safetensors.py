#!/usr/bin/env python3
"""Loads a GPT-2 or LLaMA safetensors file exported by `sparkgpt export` into PyTorch (Hugging Face's
tensor names and layouts: GPT-2's Conv1D [in, out], LlamaForCausalLM's Linear [out, in]) and prints, as one
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


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotary(x, theta):
    """Hugging Face's apply_rotary_pos_emb (rotate-half) on [b, heads, T, d]."""
    d, T = x.shape[-1], x.shape[-2]
    inv_freq = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
    ang = torch.cat((freqs, freqs), -1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * ang.cos() + torch.cat((-x2, x1), -1) * ang.sin()


def llama_forward(t, cfg, idx):
    """LlamaForCausalLM: RMSNorm, rotary q/k, repeat_kv grouped heads, SwiGLU; weights [out, in]."""
    T, e, h, kvh = idx.shape[1], cfg["emb_dim"], cfg["n_heads"], cfg["n_kv_heads"]
    hd, eps = e // h, cfg["rms_norm_eps"]
    x = t["model.embed_tokens.weight"][idx]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for i in range(cfg["n_layers"]):
        p = lambda n: t[f"model.layers.{i}.{n}"]
        a = rms_norm(x, p("input_layernorm.weight"), eps)
        q = F.linear(a, p("self_attn.q_proj.weight")).view(1, T, h, hd).transpose(1, 2)
        k = F.linear(a, p("self_attn.k_proj.weight")).view(1, T, kvh, hd).transpose(1, 2)
        v = F.linear(a, p("self_attn.v_proj.weight")).view(1, T, kvh, hd).transpose(1, 2)
        q, k = rotary(q, cfg["rope_theta"]), rotary(k, cfg["rope_theta"])
        k, v = k.repeat_interleave(h // kvh, dim=1), v.repeat_interleave(h // kvh, dim=1)
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(hd)).masked_fill(mask, float("-inf")).softmax(-1)
        x = x + F.linear((att @ v).transpose(1, 2).reshape(1, T, e), p("self_attn.o_proj.weight"))
        m = rms_norm(x, p("post_attention_layernorm.weight"), eps)
        x = x + F.linear(F.silu(F.linear(m, p("mlp.gate_proj.weight"))) * F.linear(m, p("mlp.up_proj.weight")),
                         p("mlp.down_proj.weight"))
    x = rms_norm(x, t["model.norm.weight"], eps)
    head = t.get("lm_head.weight", t["model.embed_tokens.weight"])
    return x @ head.T


def main(model_path, ids_path):
    t, meta = read_safetensors(model_path)
    cfg = json.loads(meta["sparkgpt_config"])
    ids = torch.tensor([int(s) for s in open(ids_path).read().split()])
    ctx, total, count = cfg["context_length"], 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids) - 1, ctx):
            n = min(ctx, len(ids) - 1 - start)
            run = llama_forward if cfg.get("architecture") == "llama" else forward
            logits = run(t, cfg, ids[start:start + n][None, :])
            total += F.cross_entropy(logits[0].double(), ids[start + 1:start + n + 1], reduction="sum").item()
            count += n
    loss = total / count
    print(json.dumps({"loss": loss, "perplexity": math.exp(loss), "predictions": count}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
