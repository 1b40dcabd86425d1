"""Job 2: the same 1,024-token forward in transformers (fp32 on the H200, eager attention, TF32 off), timed, and the
Headscope CLI output (run.safetensors: logits, attn.<layer>) compared with it."""
import json, sys, time
from pathlib import Path
import torch
import transformers
from safetensors import safe_open

big, res = Path(sys.argv[1]), Path(sys.argv[2])
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
report = {}
for name in ("gemma3_270m", "qwen3_06b"):
    r = {}
    try:
        d = big / name
        ids = [int(x) for x in (d / "ids.txt").read_text().split(",")]
        torch.cuda.reset_peak_memory_stats()
        model = transformers.AutoModelForCausalLM.from_pretrained(str(d), dtype=torch.float32, attn_implementation="eager").cuda().eval()
        x = torch.tensor([ids], device="cuda")
        times = []
        with torch.no_grad():
            for i in range(7):
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                o = model(input_ids=x, output_attentions=True)
                torch.cuda.synchronize()
                times.append((time.perf_counter() - t0) * 1000)
        r["torch_eager_maps_ms_median_of_5"] = sorted(times[2:])[2]
        r["torch_peak_gpu_bytes"] = torch.cuda.max_memory_allocated()
        run = d / "run.safetensors"
        if run.exists():
            with safe_open(str(run), "pt", device="cuda") as f:
                lg = f.get_tensor("logits")
                r["logits_max_abs_diff"] = float((lg - o.logits[0]).abs().max())
                r["logits_max_abs"] = float(o.logits[0].abs().max())
                r["argmax_agree"] = float((lg.argmax(-1) == o.logits[0].argmax(-1)).float().mean())
                diffs = []
                for l, a in enumerate(o.attentions):
                    h = f.get_tensor(f"attn.{l}")
                    diffs.append(float((h - a[0]).abs().max()))
                    if l == 0 and model.config.model_type == "gemma3_text":
                        # Layer 0 is local (window 512): keys 512+ positions back must be exactly 0 in both.
                        i = torch.arange(len(ids), device="cuda")
                        outside = (i[:, None] - i[None, :]) >= 512
                        r["layer0_mass_outside_window_headscope"] = float(h[:, outside].abs().max())
                        r["layer0_mass_outside_window_torch"] = float(a[0][:, outside].abs().max())
                r["attn_max_abs_diff_per_layer"] = diffs
                r["attn_max_abs_diff"] = max(diffs)
        del model, o
        torch.cuda.empty_cache()
    except Exception as e:
        r["error"] = repr(e)
    report[name] = r
    print(name, json.dumps(r), flush=True)
(res / "compare.json").write_text(json.dumps(report, indent=1))
