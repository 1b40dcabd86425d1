"""Seeded random GPT-2-small- and Pythia-160M-shaped checkpoints for the successor-head benchmark.

    python successor_models.py OUT_DIR   # writes OUT_DIR/gpt2 and OUT_DIR/pythia (config.json + model.safetensors)

No tokenizer: the benchmark writes one (bench/successor.ts --make-tokenizer), since the real GPT-2 and
Pythia tokenizers cannot be downloaded on the GPU machine.
"""

import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel, GPTNeoXConfig, GPTNeoXForCausalLM

out = sys.argv[1]
t0 = time.time()
torch.manual_seed(0)
gpt2 = GPT2LMHeadModel(GPT2Config(attn_implementation="eager"))  # the defaults are GPT-2 small: 12 × 12 × 768, vocab 50257
gpt2.save_pretrained(f"{out}/gpt2")
print(f"gpt2: {sum(p.numel() for p in gpt2.parameters()) / 1e6:.1f}M parameters, {time.time() - t0:.1f} s", flush=True)
torch.manual_seed(0)
pythia = GPTNeoXForCausalLM(
    GPTNeoXConfig(
        vocab_size=50304,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        hidden_act="gelu",
        max_position_embeddings=2048,
        layer_norm_eps=1e-5,
        tie_word_embeddings=False,
        use_parallel_residual=True,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25},
        attn_implementation="eager",
    )
)
pythia.save_pretrained(f"{out}/pythia")
print(f"pythia: {sum(p.numel() for p in pythia.parameters()) / 1e6:.1f}M parameters, {time.time() - t0:.1f} s", flush=True)
