// Runs in Chromium: the same kernels as in Node, checked against their CPU references in the page.
import {
  attention,
  attentionRef,
  GpuContext,
  layerNorm,
  layerNormRef,
  matmul,
  matmulRef,
  ropeInvFreq,
  rotary,
  rotaryRef,
  rotaryTables,
  softmax,
  softmaxRef,
  topK,
  topKRef,
} from '../../packages/wgpu-kernels/src/index.js';

type SmokeResult = { ok: true; adapter: string; errors: Record<string, number> } | { ok: false; error: string };

function randn(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
  return out;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Number.POSITIVE_INFINITY;
}

async function smoke(): Promise<SmokeResult> {
  const ctx = await GpuContext.acquire();
  const errors: Record<string, number> = {};
  const rows = 7;
  const dim = 65;
  const x = randn(rows * dim, 1);
  const w = randn(dim, 2);
  const b = randn(dim, 3);
  const y = layerNorm(ctx, { x: ctx.upload(x, [rows, dim]), weight: ctx.upload(w), bias: ctx.upload(b), eps: 1e-5 });
  errors.layerNorm = maxAbs(await ctx.readF32(y), layerNormRef(x, dim, w, b, 1e-5));

  const [m, k, n] = [33, 65, 7];
  const a = randn(m * k, 4).map((v) => v / Math.sqrt(k));
  const bm = randn(k * n, 5);
  const bias = randn(n, 6);
  const c = matmul(ctx, { a: ctx.upload(a, [m, k]), b: ctx.upload(bm, [k, n]), bias: ctx.upload(bias) });
  errors.matmul = maxAbs(await ctx.readF32(c), matmulRef(a, bm, { m, n, k }, bias));

  const [T, H, Hkv, D] = [9, 4, 2, 16];
  const q = randn(T * H * D, 7);
  const kk = randn(T * Hkv * D, 8);
  const v = randn(T * Hkv * D, 9);
  const capture = ctx.createTensor([H, T, T]);
  const o = attention(ctx, {
    q: ctx.upload(q, [T, H * D]),
    k: ctx.upload(kk, [T, Hkv * D]),
    v: ctx.upload(v, [T, Hkv * D]),
    numHeads: H,
    numKvHeads: Hkv,
    headDim: D,
    capture,
  });
  const ref = attentionRef({ q, k: kk, v, numHeads: H, numKvHeads: Hkv, headDim: D, kvLength: T });
  errors.attention = maxAbs(await ctx.readF32(o), ref.out);
  errors.attentionCapture = maxAbs(await ctx.readF32(capture), ref.probs);

  const inv = ropeInvFreq(10000, 16);
  const tables = rotaryTables(inv, 32);
  const xr = randn(T * H * D, 10);
  const rArgs = { numHeads: H, headDim: D, positionOffset: 3, rotaryDim: 16, style: 'half' as const };
  const r = rotary(ctx, { x: ctx.upload(xr, [T, H * D]), cos: ctx.upload(tables.cos, [32, 8]), sin: ctx.upload(tables.sin, [32, 8]), ...rArgs });
  errors.rotary = maxAbs(await ctx.readF32(r), rotaryRef({ x: xr, cos: tables.cos, sin: tables.sin, ...rArgs }));

  const logits = randn(3 * 1000, 11);
  errors.softmax = maxAbs(await ctx.readF32(softmax(ctx, { x: ctx.upload(logits, [3, 1000]) })), softmaxRef(logits, 1000));
  const top = topK(ctx, { x: ctx.upload(logits, [3, 1000]), k: 5 });
  const topRef = topKRef(logits, 1000, 5);
  errors.topKValues = maxAbs(await ctx.readF32(top.values), topRef.values);
  errors.topKIndices = maxAbs(await ctx.readU32(top.indices), topRef.indices);
  ctx.destroy();
  return { ok: true, adapter: `${ctx.adapter.vendor} ${ctx.adapter.architecture} ${ctx.adapter.description}`.trim(), errors };
}

declare global {
  interface Window {
    __smoke?: SmokeResult;
  }
}

smoke().then(
  (r) => {
    window.__smoke = r;
  },
  (e: unknown) => {
    window.__smoke = { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  },
);
