#!/usr/bin/env python3
"""PyTorch reference for Headscope's calibration interventions (ACT, ZeroTuning, key masks).

Loads Hugging Face checkpoints with transformers (eager attention), patches the attention softmax so
that the interventions are applied between softmax and A·V, and writes, per case, the logits, the
calibrated attention of every layer and the attention before the ACT rewrite; for ZeroTuning cases also
KV-cache decode steps. The methods are written here from their definitions (../shared/methods.md §6, §7):

- ZeroTuning (γ on key 0): A'[i,0] = γ·A[i,0]/D_i, A'[i,j] = A[i,j]/D_i, D_i = 1 + (γ−1)·A[i,0];
- key mask: the key's probability becomes 0 and the row renormalises;
- ACT (prefill only): imp[j] = mean over rows i ≥ j of A[i,j]; Sraw = {j : imp[j] > τ} (τ absolute, or
  α/N), optionally without its first element; per row, keys in S keep β·A, the removed mass goes to the
  other visible keys in proportion to A; a row with no mass outside S is unchanged.

ZeroTuning and masks act first (they are pre-softmax biases in the engine), then ACT on the result.
Cases name interventions exactly as Headscope's engine does (JSON), so the test replays them.

Usage: python3 calibration_reference.py --fixtures DIR --hidden-sink DIR --out DIR
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import safetensors.torch
import torch
import transformers
from transformers import AutoModelForCausalLM

T0 = time.time()
DECODE_STEPS = 5


def log(*a):
    print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)


# ----------------------------------------------------------------------------------- the patched softmax

STATE = {"layer": None, "busy": False, "spec": None, "pre": {}, "calls": 0, "n_heads": 0}
ORIG = {"F": torch.nn.functional.softmax, "torch": torch.softmax, "tensor": torch.Tensor.softmax}


def heads_of(iv, n_heads):
    return list(range(n_heads)) if iv["head"] == "all" else [iv["head"]]


def calibrate(p, layer, spec, n_heads):
    """p: [B, H, T, Tk] float64 probabilities of one layer. Returns (post, pre-ACT)."""
    B, H, T, Tk = p.shape
    assert H == n_heads, (H, n_heads)
    prefill = T == Tk
    # Causal visibility enforced here too (a no-op when the model's mask did it): row i sees keys ≤ Tk−T+i.
    vis = torch.ones(T, Tk, dtype=torch.bool).tril(Tk - T)
    p = p * vis
    p = p / p.sum(-1, keepdim=True)
    for iv in spec:
        if iv["layer"] != layer:
            continue
        if iv["kind"] == "logitBias":
            for h in heads_of(iv, n_heads):
                keys = list(range(Tk)) if iv["key"] == "all" else [iv["key"]]
                for j in keys:
                    if iv["value"] == "mask":
                        p[:, h, :, j] = 0.0
                        p[:, h] = p[:, h] / p[:, h].sum(-1, keepdim=True)
                    else:
                        gamma = math.exp(iv["value"])
                        a = p[:, h, :, j].clone()
                        d = 1.0 + (gamma - 1.0) * a
                        p[:, h] = p[:, h] / d.unsqueeze(-1)
                        p[:, h, :, j] = gamma * a / d
    pre = p.clone()
    for iv in spec:
        if iv["layer"] != layer or iv["kind"] != "act" or not prefill:
            continue
        tau = iv.get("tau", 0.1)
        if iv.get("tauMode", "absolute") == "relative":
            tau = tau / Tk
        beta = iv.get("beta", 0.4)
        tail = iv.get("ignoreLastKeys", 0)
        for h in heads_of(iv, n_heads):
            for b in range(B):
                a = pre[b, h]  # [T, T]; zero above the diagonal
                imp = [a[j:, j].sum().item() / (T - j) for j in range(T)]
                sraw = [j for j in range(Tk - tail) if imp[j] > tau]
                s = sraw[1:] if iv.get("exemptFirst", True) else sraw
                for i in range(T):
                    row = a[i, : i + 1]
                    ins = [j for j in s if j <= i]
                    outside = [j for j in range(i + 1) if j not in ins]
                    rest = row[outside].sum().item() if outside else 0.0
                    if not ins or rest <= 0.0:
                        continue
                    removed = (1.0 - beta) * row[ins].sum().item()
                    new = row.clone()
                    new[ins] = beta * row[ins]
                    new[outside] = row[outside] + removed * row[outside] / rest
                    p[b, h, i, : i + 1] = new
    return p, pre


def plain_softmax(x, dim, args, kwargs):
    """The unpatched softmax (the tensor method, which F.softmax itself ends in), honouring dtype."""
    dtype = kwargs.get("dtype") or next((a for a in args if isinstance(a, torch.dtype)), None)
    return ORIG["tensor"](x, dim) if dtype is None else ORIG["tensor"](x, dim, dtype=dtype)


def patched_softmax(x, dim=None, *args, **kwargs):
    """Every softmax over a 4-D score tensor inside an attention module goes through here."""
    if STATE["busy"] or STATE["layer"] is None or not isinstance(x, torch.Tensor) or x.dim() != 4:
        return plain_softmax(x, dim, args, kwargs)
    if dim not in (-1, 3):
        raise RuntimeError(f"unexpected softmax dim {dim}")
    STATE["busy"] = True
    try:
        p = ORIG["tensor"](x.to(torch.float64), -1)
        post, pre = calibrate(p, STATE["layer"], STATE["spec"], STATE["n_heads"])
        STATE["pre"][STATE["layer"]] = pre
        STATE["calls"] += 1
        return post.to(x.dtype)
    finally:
        STATE["busy"] = False


def tensor_softmax(self, dim=None, *args, **kwargs):
    return patched_softmax(self, dim, *args, **kwargs)


torch.nn.functional.softmax = patched_softmax
torch.softmax = patched_softmax
torch.Tensor.softmax = tensor_softmax


def attach_layer_hooks(model):
    n = model.config.num_hidden_layers
    found = {}
    for _, m in model.named_modules():
        idx = getattr(m, "layer_idx", None)
        if "Attention" in type(m).__name__ and idx is not None and idx not in found:
            found[idx] = m
    assert sorted(found) == list(range(n)), f"attention modules found for layers {sorted(found)}"
    for idx, m in found.items():

        def pre_hook(mod, args, kwargs, idx=idx):
            STATE["layer"] = idx

        def post_hook(mod, args, kwargs, out):
            STATE["layer"] = None

        m.register_forward_pre_hook(pre_hook, with_kwargs=True)
        m.register_forward_hook(post_hook, with_kwargs=True)


def run(model, ids, spec, past=None):
    STATE.update(spec=spec, pre={}, calls=0, n_heads=model.config.num_attention_heads)
    with torch.no_grad():
        out = model(
            input_ids=torch.tensor([ids]), past_key_values=past, use_cache=True, output_attentions=True
        )
    n = model.config.num_hidden_layers
    assert STATE["calls"] == n, f"the patched softmax ran {STATE['calls']} times for {n} layers"
    return out


# ----------------------------------------------------------------------------------------------- cases


def cases_for(name, n_layers, n_heads):
    last = n_layers - 1
    mid = 1 if n_layers > 2 else 0
    some = [{"layer": mid, "head": 0}, {"layer": last, "head": n_heads - 1}]
    zt = lambda heads, g: [dict(kind="logitBias", key=0, value=math.log(g), **h) for h in heads]
    act = lambda heads, **s: [dict(kind="act", **h, **s) for h in heads]
    allh = [{"layer": l, "head": "all"} for l in range(n_layers)]
    if name == "gpt2_hidden_sink":
        hs = [{"layer": 0, "head": 1}]
        return {
            "act_default": (act(hs), False),
            "act_tau0.2_beta0.1": (act(hs, tau=0.2, beta=0.1), False),
            "act_relative_noexempt": (act(hs + [{"layer": 1, "head": "all"}], tau=2.0, tauMode="relative", exemptFirst=False), False),
        }
    return {
        "act_default": (act(some + [{"layer": 0, "head": 2}]), False),
        "act_tau0.05_beta0.2": (act(some + [{"layer": 0, "head": 1}], tau=0.05, beta=0.2), False),
        "act_relative_tail2": (act(allh, tau=1.5, tauMode="relative", beta=0.6, ignoreLastKeys=2), False),
        "act_noexempt": (act([{"layer": mid, "head": "all"}], exemptFirst=False), False),
        "zt_0.5_some": (zt(some, 0.5), True),
        "zt_2_all": (zt(allh, 2.0), True),
        "compose_zt_act_mask": (
            zt([{"layer": mid, "head": 1}, {"layer": last, "head": "all"}], 2.0)
            + [dict(kind="logitBias", layer=mid, head=2, key=2, value="mask")]
            + act([{"layer": mid, "head": "all"}, {"layer": last, "head": 0}], tau=0.08),
            False,
        ),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--hidden-sink", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    models = {
        "llama_gqa": Path(a.fixtures) / "llama_gqa",
        "gpt2": Path(a.fixtures) / "gpt2",
        "gpt2_hidden_sink": Path(a.hidden_sink),
    }
    meta = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__, "python": sys.version.split()[0]}, "models": {}}
    tensors = {}
    for name, d in models.items():
        ref = json.loads(((Path(a.fixtures) / ("gpt2" if name == "gpt2_hidden_sink" else name)) / "reference.json").read_text())
        ids = ref["input_ids"]
        model = AutoModelForCausalLM.from_pretrained(str(d), dtype=torch.float32, attn_implementation="eager")
        assert model.config._attn_implementation == "eager", model.config._attn_implementation
        model = model.to(torch.float64).eval()
        attach_layer_hooks(model)
        L, H = model.config.num_hidden_layers, model.config.num_attention_heads
        base = run(model, ids, []).logits[0]
        tensors[f"{name}.base.logits"] = base.float()
        if name != "gpt2_hidden_sink":
            fixture = safetensors.torch.load_file(str(d / "reference.safetensors"))["logits"].double()
            log(name, "patched model, no interventions, vs the fixture's logits:", (base - fixture.reshape(base.shape)).abs().max().item())
        entry = {"input_ids": ids, "cases": {}}
        for case, (spec, decode) in cases_for(name, L, H).items():
            o = run(model, ids, spec)
            key = f"{name}.{case}"
            tensors[f"{key}.logits"] = o.logits[0].float()
            for l in range(L):
                tensors[f"{key}.attn.{l}"] = o.attentions[l][0].float()
                tensors[f"{key}.attn_pre.{l}"] = STATE["pre"][l][0].float()
            info = {"interventions": spec, "logits_change": (o.logits[0] - base).abs().max().item()}
            if decode:
                past = o.past_key_values
                nxt = int(o.logits[0, -1].argmax())
                step_ids = []
                for s in range(DECODE_STEPS):
                    step_ids.append(nxt)
                    so = run(model, [nxt], spec, past)
                    past = so.past_key_values
                    tensors[f"{key}.step{s}.logits"] = so.logits[0, -1].float()
                    for l in range(L):
                        tensors[f"{key}.step{s}.attn.{l}"] = so.attentions[l][0].float()
                    nxt = int(so.logits[0, -1].argmax())
                info["decode_ids"] = step_ids
            entry["cases"][case] = info
            log(name, case, f"max |Δlogits| vs uncalibrated {info['logits_change']:.4g}")
        meta["models"][name] = entry
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    safetensors.torch.save_file(tensors, str(out / "calibration_reference.safetensors"))
    (out / "calibration_reference.json").write_text(json.dumps(meta, indent=1))
    log("wrote", len(tensors), "tensors")


if __name__ == "__main__":
    main()
