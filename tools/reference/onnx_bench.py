#!/usr/bin/env python3
"""The Python half of the ONNX-path benchmark (bench/onnx.ts is the Node half).

  make DIR    a seeded GPT-2-small-shaped model (eager attention, random weights): config.json,
              model.safetensors, the gpt2 fixture's tokenizer.json, and its torch.onnx.export (dynamo, no
              past key/values) in DIR/onnx/model.onnx + model.onnx_data.
  time DIR    runs DIR/onnx/model.headscope.onnx (the graph Headscope rewrote, every layer's attention an
              output) with onnxruntime on the CPU, all outputs fetched, for each ids-<T>.json bench/onnx.ts
              wrote; checks the outputs against transformers (eager, float32) at the shortest length and times
              transformers on the GPU with output_attentions for context. Writes onnx.json.
"""

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402
import make_onnx_fixtures as mof  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def make(d):
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(1234)
    cfg = mf.GPT2Config(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, attn_implementation="eager")
    model = mf.GPT2LMHeadModel(cfg).eval()
    mf.ensure_eager(model)
    model.save_pretrained(str(d))
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(ROOT / "test/fixtures/models/gpt2" / f, d / f)
    (d / "onnx").mkdir(exist_ok=True)
    t = time.time()
    with torch.no_grad():
        exporter, errors = mof.export(model, d / "onnx" / "model.onnx", cfg.vocab_size, 12, 64, False)
    m = onnx.load(str(d / "onnx" / "model.onnx"), load_external_data=True)
    onnx.save_model(m, str(d / "onnx" / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=1024)
    print(f"exported with {exporter} in {time.time() - t:.1f} s; errors: {errors}", flush=True)


def median_ms(fn, runs, warm=2):
    for _ in range(warm):
        fn()
    xs = []
    for _ in range(runs):
        s = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - s) * 1000)
    return statistics.median(xs)


def time_all(d, out):
    d = Path(d)
    outputs = json.loads((d / "onnx" / "attention-outputs.json").read_text())
    so = ort.SessionOptions()
    so.intra_op_num_threads = os.cpu_count() or 1
    sess = ort.InferenceSession(str(d / "onnx" / "model.headscope.onnx"), so, providers=["CPUExecutionProvider"])
    print("onnxruntime", ort.__version__, "providers", sess.get_providers(), "threads", so.intra_op_num_threads, flush=True)
    names = ["logits"] + [o["output"] for o in outputs]
    lengths = sorted(int(p.stem.split("-")[1]) for p in d.glob("ids-*.json"))
    model = mf.GPT2LMHeadModel.from_pretrained(str(d), attn_implementation="eager").eval()
    res = {"onnxruntime": ort.__version__, "threads": so.intra_op_num_threads, "cpu": os.cpu_count(), "runs": []}
    for i, T in enumerate(lengths):
        ids = json.loads((d / f"ids-{T}.json").read_text())
        feeds = {"input_ids": np.array([ids], dtype=np.int64), "attention_mask": np.ones((1, T), dtype=np.int64), "position_ids": np.arange(T, dtype=np.int64)[None]}
        feeds = {k: v for k, v in feeds.items() if k in {x.name for x in sess.get_inputs()}}
        row = {"T": T, "onnx_cpu_all_maps_ms": median_ms(lambda: sess.run(names, feeds), 5 if T <= 256 else 3)}
        print(json.dumps(row), flush=True)
        if i == 0:
            try:
                got = sess.run(names, feeds)
                with torch.no_grad():
                    ref = model(input_ids=torch.tensor([ids]), output_attentions=True)
                row["check_logits_max_diff"] = float(np.abs(got[0][0] - ref.logits[0].numpy()).max())
                row["check_attention_max_diff"] = max(float(np.abs(got[1 + o["layer"]][0] - ref.attentions[o["layer"]][0].numpy()).max()) for o in outputs)
            except Exception as e:  # the timing above stands without the check
                row["check_error"] = f"{type(e).__name__}: {e}"[:500]
        if torch.cuda.is_available():
            gm = model.to("cuda")
            x = torch.tensor([ids], device="cuda")

            def torch_run():
                with torch.no_grad():
                    gm(input_ids=x, output_attentions=True)
                torch.cuda.synchronize()

            row["torch_cuda_eager_attentions_ms"] = median_ms(torch_run, 10, warm=5)
            model = gm.to("cpu")
        print(json.dumps(row), flush=True)
        res["runs"].append(row)
    Path(out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "make":
        make(d)
    else:
        time_all(d, sys.argv[3])
