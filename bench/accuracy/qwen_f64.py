"""float64 reference forward of a make_qwen_numpy.py model: how far the materialising and the online-softmax paths
(dumped by dump-paths.ts into OUT) each land from it. usage: python3 qwen_f64.py MODEL_DIR OUT [LAYER]
"""
import json, struct, numpy as np, sys
d = sys.argv[1]; out = sys.argv[2]; keep = int(sys.argv[3]) if len(sys.argv) > 3 else 2
cfg = json.load(open(f'{d}/config.json'))
raw = open(f'{d}/model.safetensors', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]; hdr = json.loads(raw[8:8+n]); base = 8 + n
W = {k: np.frombuffer(raw[base+v['data_offsets'][0]:base+v['data_offsets'][1]], dtype=np.float32).reshape(v['shape']).astype(np.float64) for k, v in hdr.items()}
H, NH, NKV, L = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['num_hidden_layers']
D = H // NH; eps = cfg['rms_norm_eps']; theta = cfg['rope_theta']
ids = np.fromfile(f'{out}/ids.i32', dtype=np.int32); T = len(ids)
def rms(x, w): return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w
inv = 1.0 / theta ** (np.arange(0, D, 2) / D); ang = np.outer(np.arange(T), inv); emb = np.concatenate([ang, ang], -1)
cos, sin = np.cos(emb), np.sin(emb)
def rope(x):  # x [h, T, D]
    x1, x2 = x[..., :D//2], x[..., D//2:]
    return x * cos + np.concatenate([-x2, x1], -1) * sin
x = W['model.embed_tokens.weight'][ids]
mask = np.triu(np.full((T, T), -np.inf), 1)
maps = None
for l in range(L):
    p = f'model.layers.{l}.'
    h = rms(x, W[p+'input_layernorm.weight'])
    q = (h @ W[p+'self_attn.q_proj.weight'].T + W[p+'self_attn.q_proj.bias']).reshape(T, NH, D).transpose(1, 0, 2)
    k = (h @ W[p+'self_attn.k_proj.weight'].T + W[p+'self_attn.k_proj.bias']).reshape(T, NKV, D).transpose(1, 0, 2)
    v = (h @ W[p+'self_attn.v_proj.weight'].T + W[p+'self_attn.v_proj.bias']).reshape(T, NKV, D).transpose(1, 0, 2)
    q, k = rope(q), rope(k)
    k = np.repeat(k, NH // NKV, 0); v = np.repeat(v, NH // NKV, 0)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(D) + mask
    s = s - s.max(-1, keepdims=True); e = np.exp(s); a = e / e.sum(-1, keepdims=True)
    if l == keep: maps = a
    o = (a @ v).transpose(1, 0, 2).reshape(T, NH * D)
    x = x + o @ W[p+'self_attn.o_proj.weight'].T
    h = rms(x, W[p+'post_attention_layernorm.weight'])
    g = h @ W[p+'mlp.gate_proj.weight'].T; u = h @ W[p+'mlp.up_proj.weight'].T
    x = x + (g / (1 + np.exp(-g)) * u) @ W[p+'mlp.down_proj.weight'].T
logits = rms(x, W['model.norm.weight']) @ W['model.embed_tokens.weight'].T
for name in ['dense', 'lean']:
    lg = np.fromfile(f'{out}/{name}-logits.f32', dtype=np.float32).reshape(T, -1)
    mp = np.fromfile(f'{out}/{name}-maps.f32', dtype=np.float32).reshape(NH, T, T)
    print(name, 'vs float64: logits max|d|', float(np.abs(lg - logits).max()), ' layer', keep, 'maps max|d|', float(np.abs(mp - maps).max()))
print('logits max |x|', float(np.abs(logits).max()), ' maps max', float(maps.max()))
