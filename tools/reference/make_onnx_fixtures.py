#!/usr/bin/env python3
"""ONNX fixtures for Headscope's ONNX path (issue #15), with their Hugging Face references.

Runs where torch + transformers + onnx + onnxruntime are installed (the GPU machine; CPU, float32).
For each fixture it builds a tiny seeded model with transformers (eager attention), exports it with
`torch.onnx.export` (the dynamo exporter first, the TorchScript one if that fails; the log says which),
and writes, in the layout of `test/fixtures/models/`:

  config.json, tokenizer.json + tokenizer_config.json (copied from the safetensors fixture with the same
  vocabulary), model.onnx (or onnx/model.onnx + onnx/model.onnx_data: the hub layout with external data),
  reference.safetensors (input_ids, logits, attn.<layer>, greedy_ids) and reference.json.

It checks every export with onnxruntime: logits against the reference, and every Softmax output (added as
a graph output) against the reference attentions, so the log says what the graph looks like before the
TypeScript rewrite ever sees it.

Usage: python3 make_onnx_fixtures.py --out DIR [--fixtures test/fixtures/models]
"""

import argparse
import json
import shutil
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402  (tokenizer-free helpers: seeding, perturb, forward, references)

T0 = time.time()


def log(*a):
    print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)


# ------------------------------------------------------------------------------------------ wrappers


def kv_of(cache, i):
    """(key, value) of layer i of a transformers cache, across cache API versions."""
    if hasattr(cache, "layers"):
        return cache.layers[i].keys, cache.layers[i].values
    if hasattr(cache, "key_cache"):
        return cache.key_cache[i], cache.value_cache[i]
    return cache[i][0], cache[i][1]


class NoPast(torch.nn.Module):
    """input_ids, attention_mask, position_ids -> logits (the layout optimum gives decoder exports)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, position_ids):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False).logits


class WithPast2(torch.nn.Module):
    """Two layers with past key/values in and present key/values out."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, position_ids, pk0, pv0, pk1, pv1):
        from transformers import DynamicCache

        cache = DynamicCache()
        cache.update(pk0, pv0, 0)
        cache.update(pk1, pv1, 1)
        out = self.m(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, past_key_values=cache, use_cache=True)
        k0, v0 = kv_of(out.past_key_values, 0)
        k1, v1 = kv_of(out.past_key_values, 1)
        return out.logits, k0, v0, k1, v1


PAST_IN = ["past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"]
PRESENT_OUT = ["present.0.key", "present.0.value", "present.1.key", "present.1.value"]


def example_inputs(V, kvh, hd, past, seq, with_past):
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(0, V, (1, seq), generator=g)
    mask = torch.ones(1, past + seq, dtype=torch.long)
    pos = torch.arange(past, past + seq).unsqueeze(0)
    args = [ids, mask, pos]
    if with_past:
        args += [torch.randn(1, kvh, past, hd, generator=g) for _ in range(4)]
    return tuple(args)


def strip_metadata(m):
    """Drops the exporter's per-node stack traces and doc strings (over half of a tiny model's bytes)."""
    for n in m.graph.node:
        n.doc_string = ""
        del n.metadata_props[:]
    for v in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        v.doc_string = ""
        del v.metadata_props[:]
    m.graph.doc_string = ""
    m.doc_string = ""
    return m


def export(model, path, V, kvh, hd, with_past, opset=18):
    """torch.onnx.export, dynamo first; returns the name of the exporter that worked."""
    wrapper = (WithPast2 if with_past else NoPast)(model).eval()
    names_in = ["input_ids", "attention_mask", "position_ids"] + (PAST_IN if with_past else [])
    names_out = ["logits"] + (PRESENT_OUT if with_past else [])
    args = example_inputs(V, kvh, hd, 3 if with_past else 0, 5, with_past)
    errors = []
    try:
        D = torch.export.Dim
        seq, past, total = D("seq", min=1, max=64), D("past", min=0, max=64), D("total", min=1, max=128)
        ds = {"input_ids": {1: seq}, "attention_mask": {1: total if with_past else seq}, "position_ids": {1: seq}}
        if with_past:
            ds |= {n: {2: past} for n in ("pk0", "pv0", "pk1", "pv1")}
        try:
            prog = torch.onnx.export(wrapper, args, dynamo=True, dynamic_shapes=ds, input_names=names_in, output_names=names_out, opset_version=opset)
        except Exception as e:  # derived-dimension constraints: let export infer them
            errors.append(f"dynamo (named dims): {type(e).__name__}: {str(e)[:400]}")
            A = torch.export.Dim.AUTO
            ds = {"input_ids": {1: A}, "attention_mask": {1: A}, "position_ids": {1: A}}
            if with_past:
                ds |= {n: {2: A} for n in ("pk0", "pv0", "pk1", "pv1")}
            prog = torch.onnx.export(wrapper, args, dynamo=True, dynamic_shapes=ds, input_names=names_in, output_names=names_out, opset_version=opset)
        tmp = path.parent / "_dynamo"
        tmp.mkdir(exist_ok=True)
        prog.save(str(tmp / "model.onnx"))
        m = onnx.load(str(tmp / "model.onnx"), load_external_data=True)
        shutil.rmtree(tmp)
        onnx.save_model(strip_metadata(m), str(path))
        return "dynamo", errors
    except Exception as e:
        errors.append(f"dynamo: {type(e).__name__}: {str(e)[:600]}")
        log("dynamo export failed:", errors[-1])
    axes = {"input_ids": {1: "seq"}, "attention_mask": {1: "total" if with_past else "seq"}, "position_ids": {1: "seq"}, "logits": {1: "seq"}}
    if with_past:
        axes |= {n: {2: "past"} for n in PAST_IN} | {n: {2: "total"} for n in PRESENT_OUT}
    torch.onnx.export(wrapper, args, str(path), dynamo=False, input_names=names_in, output_names=names_out, dynamic_axes=axes, opset_version=opset)
    onnx.save_model(strip_metadata(onnx.load(str(path))), str(path))
    return "torchscript", errors


# --------------------------------------------------------------------------------------- checking


def ort_feeds(sess, ids, kvh, hd):
    T = len(ids)
    feeds = {}
    for i in sess.get_inputs():
        if i.name == "input_ids":
            feeds[i.name] = np.array([ids], dtype=np.int64)
        elif i.name == "attention_mask":
            feeds[i.name] = np.ones((1, T), dtype=np.int64)
        elif i.name == "position_ids":
            feeds[i.name] = np.arange(T, dtype=np.int64)[None]
        else:
            feeds[i.name] = np.zeros((1, kvh, 0, hd), dtype=np.float32)
    return feeds


def describe_softmax(m):
    """Graph order, producers and consumers of every Softmax (what the TypeScript finder has to match)."""
    prod = {o: n for n in m.graph.node for o in n.output}
    cons = {}
    for n in m.graph.node:
        for i in n.input:
            cons.setdefault(i, []).append(n)
    inits = {t.name for t in m.graph.initializer}
    rows = []
    for idx, n in enumerate(m.graph.node):
        if n.op_type != "Softmax":
            continue
        chain, x = [], n.input[0]
        for _ in range(6):
            p = prod.get(x)
            if p is None:
                chain.append("<input/initializer>")
                break
            chain.append(p.op_type + "(" + ",".join("I" if i in inits else "a" for i in p.input) + ")")
            if p.op_type == "MatMul":
                break
            x = next((i for i in p.input if i not in inits), p.input[0])
        axis = next((a.i for a in n.attribute if a.name == "axis"), None)
        rows.append({"index": idx, "name": n.name, "axis": axis, "back": chain, "consumers": [c.op_type for c in cons.get(n.output[0], [])]})
    return rows


def check_onnx(path, ids, logits, attns, kvh, hd, external_dir=None):
    m = onnx.load(str(path), load_external_data=False)
    ops = {}
    for n in m.graph.node:
        key = (n.domain or "ai.onnx") + "::" + n.op_type
        ops[key] = ops.get(key, 0) + 1
    info = {
        "opsets": {o.domain or "ai.onnx": o.version for o in m.opset_import},
        "ops": ops,
        "inputs": [i.name for i in m.graph.input],
        "outputs": [o.name for o in m.graph.output],
        "softmax": describe_softmax(m),
        "external": sorted({e.value for t in m.graph.initializer for e in t.external_data if e.key == "location"}),
    }
    sm_outs = [n.output[0] for n in m.graph.node if n.op_type == "Softmax"]
    for o in sm_outs:
        m.graph.output.append(helper.make_tensor_value_info(o, TensorProto.FLOAT, None))
    tmp = Path(path).parent / "_check.onnx"
    onnx.save_model(m, str(tmp))
    try:
        sess = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        outs = sess.run(None, ort_feeds(sess, ids, kvh, hd))
    finally:
        tmp.unlink()
    names = [o.name for o in sess.get_outputs()]
    got = dict(zip(names, outs))
    info["ort_logits_max_diff"] = float(np.abs(got["logits"][0] - logits.numpy()).max())
    diffs = []
    for li, a in enumerate(attns):
        best = None
        for o in sm_outs:
            v = got[o]
            if v.ndim == 4 and v.shape[1:] == tuple(a.shape):
                d = float(np.abs(v[0] - a.numpy()).max())
                best = d if best is None else min(best, d)
        diffs.append(best)
    info["softmax_vs_reference_attn_max_diff_per_layer"] = diffs
    info["softmax_output_shapes"] = [list(got[o].shape) for o in sm_outs]
    return info


def ort_greedy(path, ids, kvh, hd, n):
    """Greedy decoding through the exported past-key-values graph (one prompt pass, then one token a step)."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = ort_feeds(sess, ids, kvh, hd)
    names = [o.name for o in sess.get_outputs()]
    seq = list(ids)
    out = []
    for _ in range(n):
        r = dict(zip(names, sess.run(None, feeds)))
        nxt = int(r["logits"][0, -1].argmax())
        out.append(nxt)
        seq.append(nxt)
        feeds = {
            "input_ids": np.array([[nxt]], dtype=np.int64),
            "attention_mask": np.ones((1, len(seq)), dtype=np.int64),
            "position_ids": np.array([[len(seq) - 1]], dtype=np.int64),
        }
        for pi, po in zip(PAST_IN, PRESENT_OUT):
            feeds[pi] = r[po]
    return out


# --------------------------------------------------------------------------------------- fixtures


def build(kind, seed, src_meta):
    torch.manual_seed(seed)
    sp = src_meta["special_token_ids"]
    if kind == "gpt2":
        cfg = mf.cfg_gpt2(src_meta["vocab_size"], sp, n_embd=32, n_layer=2, n_head=4, n_positions=64)
        model = mf.GPT2LMHeadModel(cfg)
    else:
        rope = {"rope_type": "default", "rope_theta": 10000.0}
        cfg = mf.cfg_llama(src_meta["vocab_size"], sp, rope, heads=4, kv=2, hidden=32, layers=2, inter=64, tied=False)
        model = mf.LlamaForCausalLM(cfg)
    model.eval()
    mf.ensure_eager(model)
    mf.perturb(model, seed)
    return model


FIXTURES = [
    # name, family, source fixture (tokenizer + prompt), with past, hub layout with external data
    ("onnx_gpt2", "gpt2", "gpt2", False, False),
    ("onnx_gpt2_past", "gpt2", "gpt2", True, False),
    ("onnx_llama_gqa", "llama", "llama_gqa", False, False),
    ("onnx_llama_gqa_past", "llama", "llama_gqa", True, True),
]


def make(name, kind, src, with_past, hub, src_root, out_root):
    d = out_root / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    src_dir = src_root / src
    src_meta = json.loads((src_dir / "reference.json").read_text())
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(src_dir / f, d / f)
    model = build(kind, 11 if kind == "gpt2" else 13, src_meta)
    model.config.save_pretrained(str(d))
    dims = mf.model_dims(model.config)
    kvh, hd = dims["num_kv_heads"], dims["head_dim"]
    ids = src_meta["input_ids"]
    logits, attns = mf.forward(model, ids)
    greedy = mf.hf_generate(model, ids, mf.N_NEW, True, 0)
    onnx_dir = d / "onnx" if hub else d
    onnx_dir.mkdir(exist_ok=True)
    path = onnx_dir / "model.onnx"
    exporter, export_errors = export(model, path, dims["vocab_size"], kvh, hd, with_past)
    if hub:  # weights in an external-data file beside the graph, named the way optimum names it
        m = onnx.load(str(path), load_external_data=True)
        # onnx's default threshold: tensors under 1 KB (shape constants) stay in the graph, where shape
        # inference can read them; onnxruntime refuses a graph whose Unsqueeze axes live in external data.
        onnx.save_model(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=1024)
    info = check_onnx(path, ids, logits, attns, kvh, hd)
    ort_ids = ort_greedy(path, ids, kvh, hd, mf.N_NEW) if with_past else None
    meta = {
        "name": name,
        "about": f"{kind} exported to ONNX from eager attention ({exporter} exporter), {'with' if with_past else 'without'} past key/values"
        + (", hub layout (onnx/model.onnx + onnx/model.onnx_data external data)" if hub else ""),
        "prompt": src_meta["prompt"],
        "bos_prepended": src_meta["bos_prepended"],
        "input_ids": ids,
        "tokens": src_meta["tokens"],
        "T": len(ids),
        "vocab_size": dims["vocab_size"],
        "special_token_ids": src_meta["special_token_ids"],
        "tokenizer_from": f"test/fixtures/models/{src}",
        "greedy_ids": greedy,
        "greedy_source": "model.generate(do_sample=False, max_new_tokens=20, use_cache=True, eos disabled)",
        "onnxruntime_greedy_ids_with_past": ort_ids,
        "exporter": exporter,
        "export_errors": export_errors,
        "onnx_file": str(path.relative_to(d)),
        "onnx_check": info,
        "dims": dims,
        "attention_stats": mf.attn_stats(attns),
        "versions": mf.versions() | {"onnx": onnx.__version__, "onnxruntime": ort.__version__},
    }
    mf.write_reference(d, ids, logits, attns, greedy, meta)
    log(name, json.dumps({k: meta[k] for k in ("exporter", "onnx_file")} | {"check": info}, indent=1))
    return model, ids, logits, attns


def fused_by_hand(d, V, seed=3):
    """One-layer model around com.microsoft Attention built with onnx.helper (fallback when nothing fuses)."""
    rng = np.random.default_rng(seed)
    H, E = 4, 32
    w = lambda *s: numpy_helper.from_array((0.15 * rng.standard_normal(s)).astype(np.float32))  # noqa: E731
    inits = []
    for nm, arr in (("wte", w(V, E)), ("qkv_w", w(E, 3 * E)), ("qkv_b", w(3 * E)), ("proj", w(E, E)), ("head", w(E, V))):
        arr.name = nm
        inits.append(arr)
    nodes = [
        helper.make_node("Gather", ["wte", "input_ids"], ["x"]),
        helper.make_node("Attention", ["x", "qkv_w", "qkv_b"], ["att"], domain="com.microsoft", num_heads=H, unidirectional=1),
        helper.make_node("MatMul", ["att", "proj"], ["y"]),
        helper.make_node("Add", ["x", "y"], ["h"]),
        helper.make_node("MatMul", ["h", "head"], ["logits"]),
    ]
    g = helper.make_graph(
        nodes, "fused_attention", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "seq", V])], inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    onnx.save_model(m, str(d / "model.onnx"))
    return ["Attention"]


def make_fused(src_root, out_root):
    """A GPT-2 whose attention is one fused op: the ONNX path must refuse it with the op's name.

    The sdpa attention exported at opset 23 (torch 2.11's exporter writes the ONNX Attention op); the
    onnx.helper graph around com.microsoft Attention when that export fails.
    """
    d = out_root / "onnx_gpt2_fused"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    src_meta = json.loads((src_root / "gpt2" / "reference.json").read_text())
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(src_root / "gpt2" / f, d / f)
    torch.manual_seed(17)
    cfg = mf.cfg_gpt2(src_meta["vocab_size"], src_meta["special_token_ids"], n_embd=16, n_layer=1, n_head=4, n_positions=64)
    model = mf.GPT2LMHeadModel(cfg).eval()
    model.set_attn_implementation("sdpa")
    model.config.save_pretrained(str(d))
    how = "sdpa attention exported with torch.onnx.export(dynamo=True, opset_version=23)"
    try:
        exporter, _ = export(model, d / "model.onnx", model.config.vocab_size, 4, 4, False, opset=23)
        m = onnx.load(str(d / "model.onnx"))
        fused = [n.op_type for n in m.graph.node if n.op_type in ("Attention", "MultiHeadAttention", "GroupQueryAttention")]
        if not fused:
            raise RuntimeError("no fused attention op in the opset-23 export")
        how += f" ({exporter})"
    except Exception as e:
        log("sdpa opset-23 path failed:", type(e).__name__, str(e)[:500])
        how = "onnx.helper around com.microsoft Attention (the opset-23 export did not fuse)"
        fused = fused_by_hand(d, model.config.vocab_size)
    m = onnx.load(str(d / "model.onnx"))
    ops = sorted({(n.domain or "ai.onnx") + "::" + n.op_type for n in m.graph.node})
    meta = {"name": "onnx_gpt2_fused", "about": "GPT-2 whose attention is a fused op: " + how, "fused_ops": fused, "ops": ops,
            "n_softmax": sum(n.op_type == "Softmax" for n in m.graph.node), "size": (d / "model.onnx").stat().st_size}
    (d / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")
    log("onnx_gpt2_fused", json.dumps(meta))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--fixtures", default=str(Path(__file__).resolve().parents[2] / "test" / "fixtures" / "models"))
    args = ap.parse_args()
    out, src_root = Path(args.out), Path(args.fixtures)
    out.mkdir(parents=True, exist_ok=True)
    log("versions", mf.versions() | {"onnx": onnx.__version__, "onnxruntime": ort.__version__})
    failed = []
    for spec in FIXTURES:
        try:
            with torch.no_grad():
                make(*spec, src_root, out)
        except Exception:
            traceback.print_exc()
            failed.append(spec[0])
    for fn in (make_fused,):
        try:
            with torch.no_grad():
                fn(src_root, out)
        except Exception:
            traceback.print_exc()
            failed.append(fn.__name__)
    log("done; failed:", failed or "none")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
