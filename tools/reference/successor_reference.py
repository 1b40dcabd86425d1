"""PyTorch reference for the successor score of a GPT-2 checkpoint (methods.md §5, default variant).

    python successor_reference.py MODEL_DIR tasks.json argmax.bin OUT.json

tasks.json and argmax.bin come from bench/successor.ts (the engine's task sets and its per-row argmax,
u32 [layers, heads, rows], rows task after task). Here, in float64 on the GPU: E = MLP0(LN2⁰(W_E[t])),
per head logits = E · W_V^h · W_O^h · W_U[:, task tokens] (no biases, no head norm), argmax per row. Prints
and writes the agreement with the engine and both rankings, and the time PyTorch takes for the same work.
"""

import json
import sys
import time

import numpy as np
import torch
from transformers import GPT2LMHeadModel

model_dir, tasks_path, argmax_path, out_path = sys.argv[1:5]
dev = "cuda" if torch.cuda.is_available() else "cpu"
model = GPT2LMHeadModel.from_pretrained(model_dir).to(dev).to(torch.float64).eval()
cfg = model.config
d, H = cfg.n_embd, cfg.n_head
dh = d // H
spec = json.load(open(tasks_path))
union = spec["tokens"]
where = {t: i for i, t in enumerate(union)}
groups = [torch.tensor([where[t] for t in task["tokens"]], device=dev) for task in spec["tasks"]]


@torch.no_grad()
def argmax_all():
    tr = model.transformer
    ids = torch.tensor(union, device=dev)
    E = tr.h[0].mlp(tr.h[0].ln_2(tr.wte.weight[ids]))
    U = model.lm_head.weight[ids].T  # [d, N]
    rows = []
    for blk in tr.h:
        V = E @ blk.attn.c_attn.weight[:, 2 * d : 3 * d]  # Conv1D weights are [in, out]
        Wo = blk.attn.c_proj.weight  # [H·dh, d]
        for h in range(H):
            logits = V[:, h * dh : (h + 1) * dh] @ (Wo[h * dh : (h + 1) * dh] @ U)
            for g in groups:
                rows.append(logits[g][:, g].argmax(dim=1))
    return torch.cat(rows)


ref = argmax_all()
if dev == "cuda":
    torch.cuda.synchronize()
times = []
for _ in range(10):
    t0 = time.perf_counter()
    argmax_all()
    if dev == "cuda":
        torch.cuda.synchronize()
    times.append((time.perf_counter() - t0) * 1000)
ref = ref.cpu().numpy().astype(np.uint32)
eng = np.fromfile(argmax_path, dtype=np.uint32)
assert eng.shape == ref.shape, (eng.shape, ref.shape)
R = sum(len(t["tokens"]) for t in spec["tasks"])


def scores(am):
    out = []
    for l in range(cfg.n_layer):
        for h in range(H):
            base = (l * H + h) * R
            hits = total = 0
            off = 0
            for task in spec["tasks"]:
                for i, j in task["pairs"]:
                    hits += int(am[base + off + i] == j)
                    total += 1
                off += len(task["tokens"])
            out.append({"layer": l, "head": h, "score": hits / total})
    return out


pair_rows = []
for l in range(cfg.n_layer):
    for h in range(H):
        off = 0
        for task in spec["tasks"]:
            pair_rows += [(l * H + h) * R + off + i for i, _ in task["pairs"]]
            off += len(task["tokens"])
pair_rows = np.array(pair_rows)
result = {
    "rows": int(ref.size),
    "rows_equal": int((ref == eng).sum()),
    "pair_rows": int(pair_rows.size),
    "pair_rows_equal": int((ref[pair_rows] == eng[pair_rows]).sum()),
    "torch_fp64_ms_median": float(np.median(times)),
    "top_reference": sorted(scores(ref), key=lambda s: -s["score"])[:5],
    "top_engine": sorted(scores(eng), key=lambda s: -s["score"])[:5],
}
print(json.dumps(result, indent=1), flush=True)
json.dump(result, open(out_path, "w"), indent=1)
