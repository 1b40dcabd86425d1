// Runs in Chromium: the same kernels as in Node, checked against their CPU references in the page.
import { GpuContext, layerNorm, layerNormRef } from '../../packages/wgpu-kernels/src/index.js';

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
