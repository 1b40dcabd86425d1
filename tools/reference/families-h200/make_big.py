"""Job 2: a Gemma-3-270M-shaped and a Qwen3-0.6B-shaped model with random weights (bf16 safetensors), a synthetic
WordLevel tokenizer.json of the right vocabulary size, and a 1,024-token prompt (512 random ids, repeated)."""
import json, random, sys, time
from pathlib import Path
import torch
import transformers

out = Path(sys.argv[1])
T = 1024
t_start = time.time()


def synth_tokenizer(path, V):
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
           "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": None, "decoder": None,
           "model": {"type": "WordLevel", "vocab": {f"t{i}": i for i in range(V)}, "unk_token": "t0"}}
    path.write_text(json.dumps(tok))


def gemma_cfg():
    types = (["sliding_attention"] * 5 + ["full_attention"]) * 3
    return transformers.Gemma3TextConfig(
        vocab_size=262144, hidden_size=640, intermediate_size=2048, num_hidden_layers=18, num_attention_heads=4,
        num_key_value_heads=1, head_dim=256, max_position_embeddings=32768, query_pre_attn_scalar=256, sliding_window=512,
        layer_types=types, rms_norm_eps=1e-6, tie_word_embeddings=True, bos_token_id=2, eos_token_id=1, pad_token_id=0,
        rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1e6},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}},
        attn_implementation="eager")


def qwen_cfg():
    return transformers.Qwen3Config(
        vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
        num_key_value_heads=8, head_dim=128, max_position_embeddings=40960, tie_word_embeddings=True, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6}, bos_token_id=151643, eos_token_id=151645,
        attn_implementation="eager")


info = {}
for name, cfg_fn, cls in (("gemma3_270m", gemma_cfg, transformers.Gemma3ForCausalLM), ("qwen3_06b", qwen_cfg, transformers.Qwen3ForCausalLM)):
    t0 = time.time()
    torch.manual_seed(1234)
    cfg = cfg_fn()
    model = cls(cfg).to(torch.bfloat16).eval()
    with torch.no_grad():
        # Norm weights start constant (0 for Gemma's 1 + w, 1 elsewhere): spread them so every norm matters.
        g = torch.Generator().manual_seed(7)
        for n, p in model.named_parameters():
            if p.ndim == 1:
                p.add_((0.2 * torch.randn(p.shape, generator=g)).to(p.dtype))
    d = out / name
    model.save_pretrained(str(d))
    synth_tokenizer(d / "tokenizer.json", cfg.vocab_size)
    rnd = random.Random(5)
    half = [rnd.randrange(10, cfg.vocab_size) for _ in range(T // 2)]
    (d / "ids.txt").write_text(",".join(map(str, half + half)))
    params = sum(p.numel() for p in model.parameters())
    info[name] = {"parameters": params, "seconds": round(time.time() - t0, 1),
                  "files": {f.name: f.stat().st_size for f in d.iterdir()}}
    print(name, info[name], flush=True)
    del model
(out / "make_big.json").write_text(json.dumps(info, indent=1))
print("make_big done in", round(time.time() - t_start, 1), "s", flush=True)
