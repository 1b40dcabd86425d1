"""PyTorch reference for the successor behavioural check of a GPT-2 checkpoint (methods.md §5).

    python successor_behaviour_reference.py MODEL_DIR behaviour.json OUT.json

behaviour.json comes from bench/successor.ts: the engine's prompts (token ids, the last item's position, the
successor and item tokens) and, per prompt and head, [attention to the last item, DLA successor, DLA item].
Here, in float64: the eager forward pass with attention outputs; each head's output at the last position
z_h · W_O^h (hooked at c_proj's input, no bias), centred, times ln_f's weight, divided by ln_f's σ of the
residual entering it at that position, read against W_U[:, token]. Prints and writes the largest differences
and whether every head's verdict (`holds`, recomputed from these numbers) agrees.
"""

import json
import sys

import numpy as np
import torch
from transformers import GPT2LMHeadModel

model_dir, behaviour_path, out_path = sys.argv[1:4]
dev = "cuda" if torch.cuda.is_available() else "cpu"
model = GPT2LMHeadModel.from_pretrained(model_dir, attn_implementation="eager").to(dev).to(torch.float64).eval()
cfg = model.config
d, H, L = cfg.n_embd, cfg.n_head, cfg.n_layer
dh = d // H
spec = json.load(open(behaviour_path))
tr = model.transformer
W_U = model.lm_head.weight  # [vocab, d]
lnf_w = tr.ln_f.weight

captured = {}
hooks = [blk.attn.c_proj.register_forward_pre_hook(lambda m, args, l=l: captured.__setitem__(l, args[0])) for l, blk in enumerate(tr.h)]
hooks.append(tr.ln_f.register_forward_pre_hook(lambda m, args: captured.__setitem__("final", args[0])))

rows = []
with torch.no_grad():
    for p in spec["prompts"]:
        ids = torch.tensor([p["tokens"]], device=dev)
        out = model(ids, output_attentions=True)
        x = captured["final"][0, -1]
        sigma = torch.sqrt(((x - x.mean()) ** 2).mean() + cfg.layer_norm_epsilon)
        u = torch.stack([W_U[p["successor"]], W_U[p["item"]]], dim=1)  # [d, 2]
        row = []
        for l in range(L):
            z = captured[l][0, -1]  # [H·dh]
            Wo = tr.h[l].attn.c_proj.weight  # Conv1D [in = H·dh, out = d]
            for h in range(H):
                o = z[h * dh : (h + 1) * dh] @ Wo[h * dh : (h + 1) * dh]
                y = (o - o.mean()) * lnf_w / sigma
                dla = y @ u
                att = out.attentions[l][0, h, -1, p["last_item"]]
                row.append([float(att), float(dla[0]), float(dla[1])])
        rows.append(row)
for h in hooks:
    h.remove()

ref = np.array(rows)  # [P, L·H, 3]
eng = np.array(spec["per_prompt"])
assert ref.shape == eng.shape, (ref.shape, eng.shape)
kinds = np.array([p["kind"] for p in spec["prompts"]])


def holds(a):
    ordinal, control = a[kinds == "ordinal"], a[kinds == "control"]
    att = ordinal[:, :, 0].mean(0)
    wins = ((ordinal[:, :, 1] - ordinal[:, :, 2]) > 1e-4).mean(0)
    margin = (ordinal[:, :, 1] - ordinal[:, :, 2]).mean(0)
    cmargin = (control[:, :, 1] - control[:, :, 2]).mean(0)
    return (att >= 0.3) & (wins > 0.5) & (margin > cmargin + 1e-4)


rel = np.abs(ref - eng) / (1 + np.abs(ref))
result = {
    "prompts": len(spec["prompts"]),
    "heads": L * H,
    "max_abs_diff_attention": float(np.abs(ref[..., 0] - eng[..., 0]).max()),
    "max_abs_diff_dla": float(np.abs(ref[..., 1:] - eng[..., 1:]).max()),
    "max_rel_diff": float(rel.max()),
    "successor_above_item_agree": int(((ref[..., 1] > ref[..., 2]) == (eng[..., 1] > eng[..., 2])).sum()),
    "successor_above_item_total": int(ref[..., 1].size),
    "holds_reference": int(holds(ref).sum()),
    "holds_engine_recomputed": int(holds(eng).sum()),
    "holds_engine_reported": int(sum(spec["holds"])),
    "holds_agree": bool((holds(ref) == np.array(spec["holds"])).all()),
}
print(json.dumps(result, indent=1), flush=True)
json.dump(result, open(out_path, "w"), indent=1)
