"""A Qwen2-shaped checkpoint (d 896, 14 heads / 2 KV heads, D 64) with seeded random fp32 weights, made with numpy.

usage: python3 make_qwen_numpy.py DIR [LAYERS]. Q/K weights have std 0.08 so attention is sharp (the hard case for
fp32 rounding); tokenizer.json is a small stand-in (the scripts pass ids directly).
"""
import json, struct, sys, numpy as np, shutil, os
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
H, L, NH, NKV, FF, V = 896, int(sys.argv[2]) if len(sys.argv) > 2 else 4, 14, 2, 1024, 1000
D = H // NH
rng = np.random.default_rng(0)
W = {}
def n(shape, std): return (rng.standard_normal(shape) * std).astype(np.float32)
W['model.embed_tokens.weight'] = n((V, H), 0.02)
for l in range(L):
    p = f'model.layers.{l}.'
    W[p+'input_layernorm.weight'] = (1 + n((H,), 0.1))
    W[p+'post_attention_layernorm.weight'] = (1 + n((H,), 0.1))
    W[p+'self_attn.q_proj.weight'] = n((NH*D, H), 0.08)
    W[p+'self_attn.q_proj.bias'] = n((NH*D,), 0.1)
    W[p+'self_attn.k_proj.weight'] = n((NKV*D, H), 0.08)
    W[p+'self_attn.k_proj.bias'] = n((NKV*D,), 0.1)
    W[p+'self_attn.v_proj.weight'] = n((NKV*D, H), 0.02)
    W[p+'self_attn.v_proj.bias'] = n((NKV*D,), 0.02)
    W[p+'self_attn.o_proj.weight'] = n((H, NH*D), 0.02)
    W[p+'mlp.gate_proj.weight'] = n((FF, H), 0.02)
    W[p+'mlp.up_proj.weight'] = n((FF, H), 0.02)
    W[p+'mlp.down_proj.weight'] = n((H, FF), 0.02)
W['model.norm.weight'] = 1 + n((H,), 0.1)
hdr = {}; off = 0; blobs = []
for k, a in W.items():
    b = a.tobytes(); hdr[k] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off+len(b)]}; off += len(b); blobs.append(b)
h = json.dumps(hdr).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
with open(f'{d}/model.safetensors', 'wb') as f:
    f.write(struct.pack('<Q', len(h))); f.write(h); [f.write(b) for b in blobs]
cfg = dict(architectures=['Qwen2ForCausalLM'], model_type='qwen2', hidden_size=H, intermediate_size=FF, num_hidden_layers=L,
  num_attention_heads=NH, num_key_value_heads=NKV, vocab_size=V, max_position_embeddings=32768, rope_theta=1000000.0,
  rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act='silu', torch_dtype='float32')
json.dump(cfg, open(f'{d}/config.json', 'w'), indent=1)
shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tokenizer.json'), d)
print('ok', off)
