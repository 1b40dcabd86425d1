import { describe, expect, it } from 'vitest';
import { type AttentionArgs, attention, attentionScratchElements } from '../../src/kernels/attention.js';
import { type AttentionRefArgs, attentionRef } from '../../src/kernels/attention.ref.js';
import type { GpuContext } from '../../src/runtime/context.js';
import { expectClose, ODD_SIZES, randn, useGpu } from '../helpers.js';

const OUT_TOL = 1e-4;
const PROB_TOL = 1e-5;

interface Case {
  t: number;
  hq: number;
  hkv: number;
  d: number;
  /** kvLength; default t */
  tk?: number;
  /** rows in the K/V buffers (≥ tk); default tk */
  tmax?: number;
  queryOffset?: number;
  scale?: number;
  window?: number;
  softcap?: number;
  logitBias?: Float32Array;
  colScale?: Float32Array;
  headScale?: Float32Array;
  /** [Hq, 4] ACT parameters per head. */
  act?: Float32Array;
  capture?: boolean;
  capturePre?: boolean;
  seed?: number;
}

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

function inputs(c: Case): Inputs {
  const tmax = c.tmax ?? c.tk ?? c.t;
  const seed = c.seed ?? 1;
  const k = randn(tmax * c.hkv * c.d, seed + 2);
  // Rows past kvLength hold huge values: any read of them would show in the output.
  for (let i = (c.tk ?? c.t) * c.hkv * c.d; i < k.length; i++) k[i] = 1e6;
  return { q: randn(c.t * c.hq * c.d, seed + 1), k, v: randn(tmax * c.hkv * c.d, seed + 3) };
}

function refArgs(c: Case, x: Inputs): AttentionRefArgs {
  return {
    ...x,
    numHeads: c.hq,
    numKvHeads: c.hkv,
    headDim: c.d,
    kvLength: c.tk ?? c.t,
    queryOffset: c.queryOffset,
    scale: c.scale,
    window: c.window,
    softcap: c.softcap,
    logitBias: c.logitBias,
    colScale: c.colScale,
    headScale: c.headScale,
    act: c.act,
  };
}

async function runGpu(
  ctx: GpuContext,
  c: Case,
  x: Inputs,
): Promise<{ out: Float32Array; capture?: Float32Array; pre?: Float32Array; actScale?: Float32Array }> {
  const tk = c.tk ?? c.t;
  const tmax = c.tmax ?? tk;
  const maps = c.hq * c.t * tk;
  const args: AttentionArgs = {
    q: ctx.upload(x.q, [c.t, c.hq * c.d]),
    k: ctx.upload(x.k, [tmax, c.hkv * c.d]),
    v: ctx.upload(x.v, [tmax, c.hkv * c.d]),
    numHeads: c.hq,
    numKvHeads: c.hkv,
    headDim: c.d,
    kvLength: tk,
    queryOffset: c.queryOffset,
    scale: c.scale,
    window: c.window,
    softcap: c.softcap,
    logitBias: c.logitBias && ctx.upload(c.logitBias, [c.hq, tk]),
    colScale: c.colScale && ctx.upload(c.colScale, [c.hq, tk]),
    headScale: c.headScale && ctx.upload(c.headScale),
    act: c.act && ctx.upload(c.act),
    actScale: c.act && ctx.createTensor([c.hq, tk], 'f32'),
    // Filled with garbage first: the kernel must write every entry, masked ones included.
    capture: c.capture === false ? undefined : ctx.upload(new Float32Array(maps).fill(7), [c.hq, c.t, tk]),
    capturePre: c.capturePre ? ctx.upload(new Float32Array(maps).fill(7), [c.hq, c.t, tk]) : undefined,
  };
  const out = await ctx.readF32(attention(ctx, args));
  return {
    out,
    capture: args.capture && (await ctx.readF32(args.capture)),
    pre: args.capturePre && (await ctx.readF32(args.capturePre)),
    actScale: args.actScale && (await ctx.readF32(args.actScale)),
  };
}

function expectRowsSumTo1(probs: Float32Array, rows: number, tk: number, skip: (row: number) => boolean = () => false): void {
  for (let r = 0; r < rows; r++) {
    if (skip(r)) continue;
    let s = 0;
    for (let j = 0; j < tk; j++) s += probs[r * tk + j]!;
    expect(Math.abs(s - 1), `row ${r} sums to ${s}`).toBeLessThan(1e-5);
  }
}

/** Compares GPU and reference on one case; returns both for further checks. */
async function check(ctx: GpuContext, c: Case) {
  const x = inputs(c);
  const ref = attentionRef(refArgs(c, x));
  const gpu = await runGpu(ctx, c, x);
  expectClose(gpu.out, ref.out, OUT_TOL);
  if (gpu.capture) expectClose(gpu.capture, ref.probs, PROB_TOL);
  if (gpu.pre) expectClose(gpu.pre, ref.probsPre, PROB_TOL);
  return { x, ref, gpu };
}

describe('attention', () => {
  const gpu = useGpu();
  const heads: [number, number][] = [
    [2, 2],
    [8, 2],
    [6, 3],
    [4, 1],
  ];

  for (const t of ODD_SIZES) {
    for (const d of [16, 64]) {
      for (const [hq, hkv] of heads) {
        it(`T=${t} D=${d} Hq=${hq} Hkv=${hkv}`, async () => {
          const { gpu: g } = await check(gpu(), { t, hq, hkv, d, seed: t * 100 + d + hq });
          expectRowsSumTo1(g.capture!, hq * t, t);
        });
      }
    }
  }

  it('works without a capture buffer (pooled scratch) and with a custom scale', async () => {
    await check(gpu(), { t: 33, hq: 4, hkv: 2, d: 16, scale: 0.3, capture: false });
  });

  it('head dim not a multiple of the tiles (D=20, D=72)', async () => {
    await check(gpu(), { t: 7, hq: 3, hkv: 1, d: 20 });
    // Two head-dim tiles: captured, the separate softmax pass; not captured, both tiles normalise as they load.
    await check(gpu(), { t: 18, hq: 2, hkv: 2, d: 72 });
    await check(gpu(), { t: 18, hq: 2, hkv: 2, d: 72, capture: false });
  });

  describe('KV-cache queries (queryOffset > 0) equal rows of the full computation', () => {
    const full: Case = { t: 33, hq: 6, hkv: 3, d: 16, seed: 5 };
    for (const [t, qo] of [
      [1, 32],
      [3, 30],
      [1, 20],
    ] as const) {
      it(`T=${t} queryOffset=${qo}`, async () => {
        const ctx = gpu();
        const xf = inputs(full);
        const all = attentionRef(refArgs(full, xf));
        const tk = qo + t;
        const c: Case = { t, hq: 6, hkv: 3, d: 16, tk, tmax: 40, queryOffset: qo };
        // K/V buffers of 40 rows: the first tk rows are the prompt's, the rest must be ignored.
        const x: Inputs = {
          q: xf.q.slice(qo * 6 * 16, (qo + t) * 6 * 16),
          k: new Float32Array(40 * 3 * 16).fill(1e6),
          v: new Float32Array(40 * 3 * 16).fill(1e6),
        };
        x.k.set(xf.k.subarray(0, tk * 3 * 16));
        x.v.set(xf.v.subarray(0, tk * 3 * 16));
        const g = await runGpu(ctx, c, x);
        expectClose(g.out, all.out.subarray(qo * 6 * 16, (qo + t) * 6 * 16), OUT_TOL);
        for (let h = 0; h < 6; h++) {
          for (let i = 0; i < t; i++) {
            const row = all.probs.subarray((h * 33 + qo + i) * 33, (h * 33 + qo + i) * 33 + tk);
            expectClose(g.capture!.subarray((h * t + i) * tk, (h * t + i + 1) * tk), row, PROB_TOL);
          }
        }
        expectClose(g.capture!, attentionRef(refArgs(c, x)).probs, PROB_TOL);
      });
    }
  });

  describe('long KV cache: P·V split over keys', () => {
    it('splits only past 256 keys (the cases below do split)', () => {
      expect(attentionScratchElements(1, 256, 12, 64, true).partials).toBe(0);
      expect(attentionScratchElements(128, 128, 12, 64, true).partials).toBe(0);
      expect(attentionScratchElements(1, 300, 4, 16, true).partials).toBeGreaterThan(0);
      expect(attentionScratchElements(3, 300, 4, 16, true).partials).toBeGreaterThan(0);
      expect(attentionScratchElements(5, 300, 6, 64, true).partials).toBeGreaterThan(0);
      expect(attentionScratchElements(3, 300, 4, 32, true).partials).toBeGreaterThan(0);
    });
    for (const t of [1, 3]) {
      it(`T=${t} kvLength=300 Hq=4 Hkv=1 with headScale`, async () => {
        const c: Case = { t, hq: 4, hkv: 1, d: 16, tk: 300, tmax: 310, headScale: new Float32Array([0, 0.5, 1, 2]), seed: 40 + t };
        const { gpu: g } = await check(gpu(), c);
        for (let i = 0; i < t; i++) for (let x = 0; x < 16; x++) expect(g.out[i * 64 + x]).toBe(0);
      });
    }
    it('T=5 kvLength=300 D=64 GQA, queryOffset below kvLength − T', async () => {
      await check(gpu(), { t: 5, hq: 6, hkv: 2, d: 64, tk: 300, queryOffset: 220, seed: 50 });
      // Not captured: the split P·V normalises the scores itself.
      await check(gpu(), { t: 5, hq: 6, hkv: 2, d: 64, tk: 300, queryOffset: 220, seed: 51, capture: false });
    });
  });

  describe('logit bias', () => {
    it('random bias with −1e30 and −∞ masks', async () => {
      const t = 33;
      const hq = 4;
      const bias = randn(hq * t, 11, 2);
      for (let h = 0; h < hq; h++) {
        bias[h * t + 3] = -1e30;
        bias[h * t + 10 + h] = Number.NEGATIVE_INFINITY;
      }
      const { gpu: g } = await check(gpu(), { t, hq, hkv: 2, d: 16, logitBias: bias, capturePre: true });
      for (let h = 0; h < hq; h++) {
        for (let i = 0; i < t; i++) {
          expect(g.capture![(h * t + i) * t + 3]).toBe(0);
          expect(g.capture![(h * t + i) * t + 10 + h]).toBe(0);
        }
      }
      // Row 3 of each head has all keys but 3 live; rows sum to 1 everywhere.
      expectRowsSumTo1(g.capture!, hq * t, t);
    });

    it('ln γ on key 0 equals the ZeroTuning closed form', async () => {
      const t = 33;
      const hq = 4;
      const gammas = [2, 0.5, 1, 4];
      const bias = new Float32Array(hq * t);
      gammas.forEach((g, h) => {
        bias[h * t] = Math.log(g);
      });
      const base = await check(gpu(), { t, hq, hkv: 4, d: 16, seed: 9 });
      const tuned = await check(gpu(), { t, hq, hkv: 4, d: 16, seed: 9, logitBias: bias });
      const expected = new Float32Array(hq * t * t);
      for (let h = 0; h < hq; h++) {
        for (let i = 0; i < t; i++) {
          const r = (h * t + i) * t;
          const a0 = base.ref.probs[r]!;
          const di = 1 + (gammas[h]! - 1) * a0;
          expected[r] = (gammas[h]! * a0) / di;
          for (let j = 1; j < t; j++) expected[r + j] = base.ref.probs[r + j]! / di;
        }
      }
      expectClose(tuned.gpu.capture!, expected, PROB_TOL);
    });

    it('a row with every key masked gives zeros, not NaN', async () => {
      const t = 7;
      const bias = new Float32Array(2 * t);
      bias.fill(-1e30, 0, t); // head 0: everything masked
      bias[t + 2] = -1e30;
      const { gpu: g } = await check(gpu(), { t, hq: 2, hkv: 1, d: 16, logitBias: bias, headScale: new Float32Array([1, 1]) });
      for (let i = 0; i < t; i++) for (let x = 0; x < 16; x++) expect(g.out[i * 32 + x]).toBe(0);
      expect(g.capture!.subarray(0, t * t).every((p) => p === 0)).toBe(true);
      // Head 1 row 2 still has keys 0, 1.
      expectRowsSumTo1(g.capture!.subarray(t * t), t, t);
    });
  });

  describe('colScale rewrite (ACT)', () => {
    it('β = 0.4 on a set of columns, rows keep sum 1; capturePre holds the softmax', async () => {
      const t = 33;
      const hq = 4;
      const cs = new Float32Array(hq * t).fill(1);
      for (const j of [2, 5, 9, 20]) for (const h of [0, 2, 3]) cs[h * t + j] = 0.4;
      cs[3 * t + 0] = 0.4; // head 3: key 0 too (rows 0, 1 of that head … row 0 has no uncalibrated key)
      const { gpu: g, ref } = await check(gpu(), { t, hq, hkv: 2, d: 16, colScale: cs, capturePre: true, seed: 3 });
      expectRowsSumTo1(g.capture!, hq * t, t);
      expectRowsSumTo1(g.pre!, hq * t, t);
      // Head 1 has no calibrated key: untouched.
      expectClose(g.capture!.subarray(t * t, 2 * t * t), ref.probsPre.subarray(t * t, 2 * t * t), PROB_TOL);
      // Calibrated entries are β times the softmax.
      for (let i = 9; i < t; i++) expect(Math.abs(g.capture![i * t + 9]! - 0.4 * g.pre![i * t + 9]!)).toBeLessThan(1e-6);
      // Head 3 row 0 sees only key 0 (calibrated): zero denominator, unchanged.
      expect(g.capture![3 * t * t]).toBeCloseTo(1, 6);
    });

    it('a row whose uncalibrated visible keys carry no mass (bias mask) is left unchanged', async () => {
      const t = 7;
      const cs = new Float32Array(2 * t).fill(1);
      const bias = new Float32Array(2 * t);
      for (const j of [0, 1, 2]) cs[j] = 0.4; // head 0: keys 0–2 calibrated …
      for (const j of [3, 4, 5, 6]) bias[j] = -1e30; // … and keys 3–6 masked: no mass to redistribute to
      cs[t + 1] = 0.4; // head 1: an ordinary rewrite beside it
      const { gpu: g, ref } = await check(gpu(), { t, hq: 2, hkv: 2, d: 16, colScale: cs, logitBias: bias, capturePre: true });
      expectClose(g.capture!.subarray(0, t * t), g.pre!.subarray(0, t * t), 0);
      expectClose(ref.probs.subarray(0, t * t), ref.probsPre.subarray(0, t * t), 0);
      expectRowsSumTo1(g.capture!, 2 * t, t);
    });

    it('without colScale, capturePre equals capture', async () => {
      const { gpu: g } = await check(gpu(), { t: 7, hq: 2, hkv: 2, d: 16, capturePre: true });
      expectClose(g.pre!, g.capture!, 0);
    });

    it('colScale with no capture buffer', async () => {
      const cs = new Float32Array(4 * 33).fill(1);
      for (let h = 0; h < 4; h++) cs[h * 33 + 4] = 0.4;
      await check(gpu(), { t: 33, hq: 4, hkv: 1, d: 64, colScale: cs, capture: false });
    });
  });

  it('headScale: 0 ablates exactly, 0.5 halves', async () => {
    const ctx = gpu();
    const c: Case = { t: 33, hq: 4, hkv: 2, d: 16, seed: 21 };
    const plain = await check(ctx, c);
    const { gpu: g } = await check(ctx, { ...c, headScale: new Float32Array([0, 0.5, 1, 2]) });
    const scales = [0, 0.5, 1, 2];
    for (let i = 0; i < 33; i++) {
      for (let h = 0; h < 4; h++) {
        for (let x = 0; x < 16; x++) {
          const at = i * 64 + h * 16 + x;
          if (h === 0) expect(g.out[at]).toBe(0);
          else expect(Math.abs(g.out[at]! - scales[h]! * plain.gpu.out[at]!)).toBeLessThan(1e-6);
        }
      }
    }
    expectClose(g.capture!, plain.gpu.capture!, 0);
  });

  describe('sliding window and soft-capping (Gemma layers)', () => {
    for (const [t, w] of [
      [9, 4],
      [40, 7],
      [5, 1],
    ] as const) {
      it(`T=${t} window=${w}: keys ${w} or more positions back get exactly 0`, async () => {
        const { gpu: g } = await check(gpu(), { t, hq: 4, hkv: 2, d: 16, window: w, seed: t + w });
        const maps = g.capture!;
        for (let h = 0; h < 4; h++) {
          for (let i = 0; i < t; i++) {
            for (let j = 0; j <= i; j++) {
              const p = maps[(h * t + i) * t + j]!;
              if (i - j >= w) expect(p, `h${h} row ${i} key ${j}`).toBe(0);
              else expect(p).toBeGreaterThan(0);
            }
          }
        }
        expectRowsSumTo1(maps, 4 * t, t);
      });
    }

    it('window with a KV cache (queryOffset > 0, long cache, split P·V) equals the reference', async () => {
      await check(gpu(), { t: 3, tk: 300, hq: 4, hkv: 1, d: 32, queryOffset: 297, window: 20 });
      await check(gpu(), { t: 1, tk: 90, tmax: 100, hq: 2, hkv: 2, d: 16, window: 33 });
    });

    it('soft-capping bends large scores: cap 2 with scores up to ~±10', async () => {
      const { x, gpu: g } = await check(gpu(), { t: 21, hq: 2, hkv: 1, d: 64, scale: 1, softcap: 2, seed: 5 });
      // Without the cap the maps differ a lot: the cap is really applied.
      const plain = attentionRef({ ...x, numHeads: 2, numKvHeads: 1, headDim: 64, kvLength: 21, scale: 1 });
      let diff = 0;
      for (let i = 0; i < plain.probs.length; i++) diff = Math.max(diff, Math.abs(plain.probs[i]! - g.capture![i]!));
      expect(diff).toBeGreaterThan(0.3);
    });

    it('window, soft-cap and a ZeroTuning bias on key 0 together: key 0 stays masked outside the window', async () => {
      const [t, hq, w] = [30, 2, 6];
      const logitBias = new Float32Array(hq * t);
      logitBias[0] = Math.log(3);
      logitBias[t] = Math.log(3);
      const { gpu: g } = await check(gpu(), { t, hq, hkv: 1, d: 16, window: w, softcap: 5, logitBias, colScale: undefined, seed: 9 });
      for (let i = w; i < t; i++) expect(g.capture![i * t]).toBe(0);
      expect(g.capture![(w - 1) * t]).toBeGreaterThan(0);
    });
  });

  it('all hooks together', async () => {
    const t = 65;
    const hq = 6;
    const bias = randn(hq * t, 31, 0.5);
    bias[2 * t + 7] = -1e30;
    const cs = new Float32Array(hq * t).fill(1);
    for (const j of [1, 8, 40]) cs[j] = 0.4;
    cs[5 * t + 3] = 0;
    await check(gpu(), { t, hq, hkv: 3, d: 64, logitBias: bias, colScale: cs, headScale: new Float32Array([1, 0, 0.5, 1, 2, 1]), capturePre: true });
  });

  describe("ACT from the pass's own probabilities", () => {
    /** Per head [mode, τ, β, ignored last keys]. */
    const actOf = (...heads: [number, number, number, number][]) => Float32Array.from(heads.flat());

    it('planted sinks: key 0 exempt, the hidden sink gets β, other heads untouched; = the reference', async () => {
      const t = 40;
      const hq = 4;
      // Heads 0 and 2 pour attention into keys 0 and 6 (large bias); heads 1, 3 stay random.
      const bias = new Float32Array(hq * t);
      for (const h of [0, 2]) {
        bias[h * t] = 4;
        bias[h * t + 6] = 5;
      }
      const act = actOf([1, 0.1, 0.4, 0], [0, 0.1, 0.4, 0], [2, 0.1, 0.25, 0], [1, 0.1, 0.4, 0]);
      const { gpu: g, ref } = await check(gpu(), { t, hq, hkv: 2, d: 16, logitBias: bias, act, capturePre: true, seed: 4 });
      const scale = g.actScale!;
      expect(scale[0]).toBe(1); // head 0: key 0 is the first of Sraw, exempt
      expect(scale[6]).toBeCloseTo(0.4, 7);
      expect(scale[2 * t]).toBeCloseTo(0.25, 7); // head 2: nothing exempt
      expect(scale[2 * t + 6]).toBeCloseTo(0.25, 7);
      expect(scale.subarray(t, 2 * t).every((v) => v === 1)).toBe(true); // ACT off
      // Rows past key 6 of head 0 lose 60 % of that key's mass.
      for (let i = 6; i < t; i++) expect(g.capture![i * t + 6]).toBeCloseTo(0.4 * g.pre![i * t + 6]!, 6);
      expectRowsSumTo1(g.capture!, hq * t, t);
      expect(Math.max(...ref.probs.map((p, i) => Math.abs(p - ref.probsPre[i]!)))).toBeGreaterThan(0.1);
    });

    it('a static column scale stays on heads with ACT off; ignored last keys; KV-cache offset; long rows', async () => {
      const cs = new Float32Array(3 * 300).fill(1);
      cs[300 + 5] = 0.5;
      await check(gpu(), {
        t: 300,
        hq: 3,
        hkv: 1,
        d: 16,
        colScale: cs,
        act: actOf([1, 0.02, 0.4, 4], [0, 0, 0, 0], [2, 0.01, 0.7, 0]),
        capturePre: true,
        seed: 8,
      });
      await check(gpu(), { t: 9, hq: 2, hkv: 2, d: 16, tk: 30, queryOffset: 21, act: actOf([1, 0.05, 0.4, 0], [2, 0.08, 0, 1]), seed: 12 });
    });

    it('τ above every importance is the identity; no capture buffer', async () => {
      const c: Case = { t: 33, hq: 2, hkv: 1, d: 16, seed: 2 };
      const plain = await check(gpu(), c);
      const { gpu: g } = await check(gpu(), { ...c, act: actOf([1, 2, 0.4, 0], [2, 2, 0.4, 0]) });
      // Equal up to rounding: without ACT, P·V normalises the scores itself (another summation order);
      // β = 0.4 on any key would move outputs by ~1e-2.
      expectClose(g.out, plain.gpu.out, 1e-6);
      expectClose(g.capture!, plain.gpu.capture!, 1e-6);
      await check(gpu(), { ...c, act: actOf([1, 0.05, 0.4, 0], [2, 0.05, 0.4, 0]), capture: false });
    });
  });
});
