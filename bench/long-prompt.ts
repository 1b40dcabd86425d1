/**
 * Long prompts under a capture budget (issue #14): a checkpoint folder (made on the GPU machine by
 * tools/…/long_prompt_model.py or any Hugging Face folder) runs
 *  1. a check prompt both ways — every map kept (materialising kernel) and the budget (maps of one layer
 *     head by head, reductions of every layer from the online softmax) — and compares logits, maps, reductions;
 *  2. a long prompt with reductions for every head and one layer's maps kept: the engine's estimate
 *     beforehand, the buffer pool's measured peak, wall time, and the last logits against PyTorch's;
 *  3. the attention kernels alone (online softmax vs materialising) at a few lengths.
 * Prints one JSON object (also written to --out).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CaptureSpec, describeRunCost, type ForwardResult, type LoadedModel, loadModel } from '../packages/models/src/index.js';
import { NodeDirSource } from '../packages/models/src/node.js';
import { attention, attentionRef, flashAttention, type GpuContext, type GpuTensor } from '../packages/wgpu-kernels/src/index.js';
import { createNodeContext } from '../packages/wgpu-kernels/src/node.js';
import { median } from './timing.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

/**
 * A file's bytes in an ArrayBuffer of their own: small files come back as a view into Node's shared
 * buffer pool, so `.buffer` alone holds other data (a 512-token id file read that way gave ids in the billions).
 */
function bytesOf(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = a.length === b.length ? 0 : Number.POSITIVE_INFINITY;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) || 0);
  return m;
};

/** Bytes of the model's weight buffers (tied matrices once). */
function weightBytes(model: LoadedModel): number {
  const w = model.transformer.weights;
  const all: (GpuTensor | undefined)[] = [w.embed, w.pos, w.lnFinal.w, w.lnFinal.b, w.unembed.w, w.unembed.b];
  for (const l of w.layers) {
    all.push(l.ln1.w, l.ln1.b, l.ln2.w, l.ln2.b);
    for (const lin of [l.q, l.k, l.v, l.o, l.mlpIn, l.mlpGate, l.mlpOut]) if (lin) all.push(lin.w, lin.b);
  }
  const seen = new Set<GPUBuffer>();
  let bytes = 0;
  for (const t of all) {
    if (t && !seen.has(t.buffer)) {
      seen.add(t.buffer);
      bytes += t.buffer.size;
    }
  }
  return bytes;
}

/** Reductions of every head of every layer listed, compared with another store's (max abs, argmax mismatches). */
async function compareStats(a: ForwardResult, b: ForwardResult, layers: number, heads: number) {
  let diff = 0;
  let argmaxMismatch = 0;
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const [x, y] = await Promise.all([a.attention.stats(l, h), b.attention.stats(l, h)]);
      diff = Math.max(diff, maxAbs(x.colMean, y.colMean), maxAbs(x.entropy, y.entropy), maxAbs(x.firstMass, y.firstMass));
      for (let i = 0; i < x.argmax.length; i++) if (x.argmax[i] !== y.argmax[i]) argmaxMismatch++;
    }
  }
  return { statsMaxAbs: diff, argmaxMismatch };
}

async function kernelTimes(ctx: GpuContext, hq: number, hkv: number, d: number, lengths: number[]) {
  const rows: Record<string, number>[] = [];
  for (const t of lengths) {
    let seed = t;
    const rnd = (n: number) =>
      Float32Array.from({ length: n }, () => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return (seed / 2 ** 32 - 0.5) * 3;
      });
    const [qh, kh, vh] = [rnd(t * hq * d), rnd(t * hkv * d), rnd(t * hkv * d)];
    const q = ctx.upload(qh, [t, hq * d]);
    const k = ctx.upload(kh, [t, hkv * d]);
    const v = ctx.upload(vh, [t, hkv * d]);
    const args = { q, k, v, numHeads: hq, numKvHeads: hkv, headDim: d };
    const cases: [string, () => void][] = [
      ['flash', () => ctx.release(flashAttention(ctx, args).out)],
      [
        'flash+stats',
        () => {
          const r = flashAttention(ctx, { ...args, stats: true });
          ctx.release(r.out, r.stats!.colMean, r.stats!.entropy, r.stats!.argmax, r.stats!.firstMass);
        },
      ],
    ];
    // The materialising kernel needs H·T² floats of scratch: only where that fits one binding.
    if (hq * t * t * 4 <= ctx.limits.maxStorageBufferBindingSize) cases.push(['materialising', () => ctx.release(attention(ctx, args))]);
    const row: Record<string, number> = { t };
    // Accuracy first: the online softmax against the materialising kernel (and the float64 CPU reference at the first length).
    const fo = flashAttention(ctx, args).out;
    const flashOut = await ctx.readF32(fo);
    ctx.release(fo);
    if (hq * t * t * 4 <= ctx.limits.maxStorageBufferBindingSize) {
      const mo = attention(ctx, args);
      row.flashVsMaterialisingMaxAbs = maxAbs(flashOut, await ctx.readF32(mo));
      ctx.release(mo);
    }
    if (t === lengths[0]) {
      const ref = attentionRef({ q: qh, k: kh, v: vh, numHeads: hq, numKvHeads: hkv, headDim: d, kvLength: t });
      row.flashVsCpuReferenceMaxAbs = maxAbs(flashOut, ref.out);
    }
    for (const [name, run] of cases) {
      for (let i = 0; i < 3; i++) run();
      await ctx.sync();
      const samples: number[] = [];
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        run();
        await ctx.sync();
        samples.push(performance.now() - t0);
      }
      row[`${name}Ms`] = median(samples);
    }
    rows.push(row);
    ctx.release(q, k, v);
  }
  return rows;
}

async function main(): Promise<void> {
  const dir = arg('model', '');
  const tokens = Number(arg('tokens', '8192'));
  const checkTokens = Number(arg('check-tokens', '512'));
  const keepLayer = Number(arg('keep-layer', '12'));
  const out = arg('out', '');
  const ctx = await createNodeContext();
  const result: Record<string, unknown> = { adapter: ctx.adapter.description || ctx.adapter.vendor, maxBindingBytes: ctx.limits.maxStorageBufferBindingSize };
  const say = (k: string, v: unknown) => {
    result[k] = v;
    console.log(k, JSON.stringify(v));
  };

  const t0 = performance.now();
  const model = await loadModel(ctx, new NodeDirSource(dir));
  const c = model.config;
  say('load', { seconds: (performance.now() - t0) / 1000, checkpointDtype: c.torchDtype, weightGpuBytes: weightBytes(model) });
  const ids = (n: number) => {
    const f = join(dir, `ids_${n}.i32`);
    try {
      return Array.from(new Int32Array(bytesOf(f)));
    } catch {
      return Array.from({ length: n }, (_, i) => (i * 7919 + 13) % c.vocabSize);
    }
  };
  const allHeads = Array.from({ length: c.nHeads }, (_, h) => h);
  const budget: CaptureSpec = { layers: [keepLayer], heads: allHeads, stats: 'all' };

  // 1. Both paths where both fit.
  {
    const p = ids(checkTokens);
    const dense = model.run(p);
    const lean = model.run(p, { capture: budget });
    const [ld, ll] = await Promise.all([ctx.readF32(dense.logits), ctx.readF32(lean.logits)]);
    const mapsDiff = maxAbs(await lean.attention.layer(keepLayer), await dense.attention.layer(keepLayer));
    const V = c.vocabSize;
    let torch: Record<string, number> = {};
    try {
      const ref = new Float32Array(bytesOf(join(dir, `ref_last_logits_${checkTokens}.f32`)));
      torch = {
        materialisingLastVsPytorchMaxAbs: maxAbs(ld.subarray((checkTokens - 1) * V), ref),
        onlineSoftmaxLastVsPytorchMaxAbs: maxAbs(ll.subarray((checkTokens - 1) * V), ref),
        pytorchLastLogitMaxAbs: ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0),
      };
    } catch {}
    say('check', {
      tokens: checkTokens,
      logitsMaxAbs: maxAbs(ld, ll),
      keptMapsMaxAbs: mapsDiff,
      ...(await compareStats(lean, dense, c.nLayers, c.nHeads)),
      ...torch,
    });
    for (const r of [dense, lean]) {
      ctx.release(r.logits);
      r.attention.release();
    }
  }

  // 2. The long prompt.
  {
    const p = ids(tokens);
    const options = { capture: budget, logits: 'last' as const };
    const cost = model.transformer.estimate(tokens, options);
    console.log('estimate:', describeRunCost(cost));
    const dense = model.transformer.estimate(tokens, { logits: 'last' });
    say('estimate', { ...cost, everyMapKeptWouldNeed: dense.totalBytes, everyMapLargestBuffer: dense.largestBuffer });
    await ctx.sync();
    ctx.pool.resetPeak();
    const before = ctx.pool.stats.liveBytes;
    const w0 = performance.now();
    const r = model.run(p, options);
    const last = await ctx.readF32(r.logits);
    const forwardMs = performance.now() - w0;
    let entropySum = 0;
    for (let l = 0; l < c.nLayers; l++) for (let h = 0; h < c.nHeads; h++) entropySum += (await r.attention.stats(l, h)).entropy.reduce((a, b) => a + b, 0);
    const map = await r.attention.head(keepLayer, 0);
    let rowSumErr = 0;
    for (let i = 0; i < tokens; i += 257) {
      let s = 0;
      for (let j = 0; j <= i; j++) s += map[i * tokens + j]!;
      rowSumErr = Math.max(rowSumErr, Math.abs(s - 1));
    }
    const peak = ctx.pool.stats.peakLiveBytes - before;
    let refDiff: number | null = null;
    try {
      refDiff = maxAbs(last, new Float32Array(bytesOf(join(dir, `ref_last_logits_${tokens}.f32`))));
    } catch {}
    say('long', {
      tokens,
      forwardMs,
      estimateBytes: cost.totalBytes,
      measuredPeakBytes: peak,
      withinEstimate: peak <= cost.totalBytes,
      statsLayers: r.attention.statsLayers.length,
      keptHeads: allHeads.length,
      meanEntropy: entropySum / (c.nLayers * c.nHeads * tokens),
      keptMapRowSumMaxErr: rowSumErr,
      lastLogitsVsPytorchMaxAbs: refDiff,
    });
    ctx.release(r.logits);
    r.attention.release();
  }

  // 3. The attention kernels alone, this model's head shape.
  say('kernels', await kernelTimes(ctx, c.nHeads, c.nKvHeads, c.dHead, (arg('kernel-lengths', '1024,4096,8192') || '').split(',').map(Number)));
  model.dispose();
  ctx.destroy();
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
}

await main();
