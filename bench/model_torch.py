"""PyTorch side of the model benchmark (bench/README.md).

Writes seeded random checkpoints of the benchmark shapes with transformers (fp32 safetensors, one folder
per model, read by bench/model.ts in the same job), then times PyTorch on the same shapes: eager attention
with output_attentions, sdpa without maps, and greedy decoding with a KV cache.

  python bench/model_torch.py --out DIR --json torch.json [--models gpt2,pythia,qwen] [--T 128,512,...]
      [--reps 15] [--decode 64] [--tiny]
"""

import argparse
import json
import statistics
import time

import torch
import transformers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)


def shapes(tiny: bool):
    """The published configs of GPT-2 small, Pythia-160M and Qwen2.5-0.5B (tiny: the same families, small)."""
    if tiny:
        return {
            "gpt2": (GPT2LMHeadModel, GPT2Config(n_embd=32, n_layer=2, n_head=2, n_positions=64, vocab_size=101)),
            "pythia": (
                GPTNeoXForCausalLM,
                GPTNeoXConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                              max_position_embeddings=128, vocab_size=103, rotary_pct=0.25, use_parallel_residual=True),
            ),
            "qwen": (
                Qwen2ForCausalLM,
                Qwen2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                            intermediate_size=64, max_position_embeddings=256, vocab_size=107, tie_word_embeddings=True),
            ),
        }
    return {
        "gpt2": (GPT2LMHeadModel, GPT2Config(n_embd=768, n_layer=12, n_head=12, n_positions=1024, vocab_size=50257)),
        "pythia": (
            GPTNeoXForCausalLM,
            GPTNeoXConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                          max_position_embeddings=2048, vocab_size=50304, rotary_pct=0.25, rotary_emb_base=10000,
                          use_parallel_residual=True, tie_word_embeddings=False, layer_norm_eps=1e-5),
        ),
        "qwen": (
            Qwen2ForCausalLM,
            Qwen2Config(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                        intermediate_size=4864, max_position_embeddings=32768, vocab_size=151936,
                        tie_word_embeddings=True, rope_theta=1000000.0, rms_norm_eps=1e-6),
        ),
    }


def n_ctx(config) -> int:
    return getattr(config, "n_positions", None) or config.max_position_embeddings


def warm(device: str, seconds: float) -> None:
    """Keeps the GPU busy so it runs at its loaded clocks (the H200 idles at 345 MHz)."""
    if device != "cuda":
        return
    a = torch.randn(4096, 4096, device=device)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(8):
            a @ a
        torch.cuda.synchronize()


def timed(fn, reps: int, device: str, case_s: float):
    """Median wall ms (call → GPU done) and median GPU ms (CUDA events), reps cut to fit case_s."""
    for _ in range(2):
        fn()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    est = time.perf_counter() - t0
    reps = max(3, min(reps, int(case_s / max(est, 1e-4))))
    wall, gpu = [], []
    for _ in range(reps):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            end.record()
        sync()
        wall.append((time.perf_counter() - t0) * 1e3)
        if device == "cuda":
            gpu.append(start.elapsed_time(end))
    return statistics.median(wall), (statistics.median(gpu) if gpu else None), reps


def tokens(n: int, vocab: int, seed: int, device: str):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (1, n), generator=g).to(device)


def decode_rate(model, vocab: int, prompt: int, steps: int, device: str):
    """Greedy decoding with the KV cache; each step reads its token back (as the engine samples on the host)."""
    ids = tokens(prompt, vocab, 7, device)

    def run(n: int):
        """Prefill (+ its token) ms, then ms for the n following tokens."""
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        sync()
        t0 = time.perf_counter()
        out = model(ids, use_cache=True)
        past = out.past_key_values
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        int(nxt)
        t1 = time.perf_counter()
        for _ in range(n):
            out = model(nxt, past_key_values=past, use_cache=True)
            past = out.past_key_values
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            int(nxt)
        return (t1 - t0) * 1e3, (time.perf_counter() - t1) * 1e3

    run(steps)
    runs = [run(steps) for _ in range(3)]
    ms = statistics.median(r[1] for r in runs) / steps
    return ms, statistics.median(r[0] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="folder for the checkpoints (one subfolder per model)")
    ap.add_argument("--json", required=True)
    ap.add_argument("--models", default="gpt2,pythia,qwen")
    ap.add_argument("--T", default="128,512,1024,2048,4096")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--case-s", type=float, default=2.0)
    ap.add_argument("--decode", type=int, default=64)
    ap.add_argument("--decode-prompt", type=int, default=128)
    ap.add_argument("--write-only", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="small shapes (a run without a GPU)")
    a = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    lengths = [int(t) for t in a.T.split(",")]
    result = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "forward": [],
        "decode": [],
    }
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 throughout, as the engine
    torch.backends.cudnn.allow_tf32 = False
    for name in a.models.split(","):
        cls, config = shapes(a.tiny)[name]
        torch.manual_seed(0)
        t0 = time.perf_counter()
        model = cls(config).eval()
        model.save_pretrained(f"{a.out}/{name}")
        print(f"{name}: wrote {a.out}/{name} in {time.perf_counter() - t0:.1f} s", flush=True)
        if a.write_only:
            continue
        model = model.to(device)
        warm(device, 1.0)
        with torch.inference_mode():
            for T in [t for t in lengths if t <= n_ctx(config)]:
                ids = tokens(T, config.vocab_size, T, device)
                # logits "all": every position, as a plain forward call; "last": logits_to_keep=1, as generate's prefill.
                for impl, attentions, logits in (("eager", True, "all"), ("sdpa", False, "all"), ("eager", True, "last"), ("sdpa", False, "last")):
                    model.set_attn_implementation(impl)
                    keep = {"logits_to_keep": 1} if logits == "last" else {}
                    try:
                        ms, gpu, reps = timed(lambda: model(ids, output_attentions=attentions, use_cache=False, **keep), a.reps, device, a.case_s)
                    except TypeError as e:  # a model class without logits_to_keep
                        print(f"{name} T={T} {impl} logits={logits}: skipped ({e})", flush=True)
                        continue
                    result["forward"].append({"model": name, "T": T, "impl": impl, "attentions": attentions, "logits": logits, "ms": ms, "gpuMs": gpu})
                    print(f"{name} T={T:5d} {impl:5s} attentions={attentions!s:5s} logits={logits:4s} {ms:8.2f} ms (cuda events {gpu if gpu is None else round(gpu, 2)} ms, reps {reps})", flush=True)
            if a.decode > 0:
                for impl in ("sdpa", "eager"):
                    model.set_attn_implementation(impl)
                    ms, prefill = decode_rate(model, config.vocab_size, a.decode_prompt, a.decode, device)
                    result["decode"].append({"model": name, "impl": impl, "prompt": a.decode_prompt, "steps": a.decode,
                                             "tokensPerS": 1000 / ms, "msPerToken": ms, "prefillMs": prefill})
                    print(f"{name} decode {impl}: {1000 / ms:.1f} tokens/s ({ms:.3f} ms/token, prefill and its token {prefill:.2f} ms)", flush=True)
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
