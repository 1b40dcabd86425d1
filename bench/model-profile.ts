/**
 * Where a forward pass's time goes (bench/model.ts --profile): WebGPU calls counted and timed while the pass
 * is recorded, GPU time per kernel label, the unembedding, logits of every position vs the last only.
 */
import type { Transformer } from '../packages/models/src/engine/forward.js';
import type { GpuContext } from '../packages/wgpu-kernels/src/runtime/context.js';
import { median } from './timing.js';

interface CallStats {
  calls: number;
  ms: number;
  bytes: number;
}

type Counters = Record<string, CallStats>;

/**
 * Wraps `name` on one object so each call is counted and timed. Dawn's methods live on non-writable
 * prototype properties, so the wrapper is defined on the instance.
 */
function spy<T extends object>(
  counters: Counters,
  key: string,
  target: T,
  name: string,
  bytesOf?: (args: unknown[]) => number,
  after?: (r: unknown) => void,
): void {
  const original = (target as Record<string, unknown>)[name] as (...a: unknown[]) => unknown;
  const stats: CallStats = counters[key] ?? { calls: 0, ms: 0, bytes: 0 };
  counters[key] = stats;
  Object.defineProperty(target, name, {
    configurable: true,
    value: function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const r = original.apply(this, args);
      stats.ms += performance.now() - t0;
      stats.calls++;
      if (bytesOf) stats.bytes += bytesOf(args);
      after?.(r);
      return r;
    },
  });
}

/** Counts and times the WebGPU calls a forward pass makes (device, queue, encoders, passes, pipelines). */
function instrument(ctx: GpuContext, counters: Counters): () => void {
  const device = ctx.device;
  const wrapped: [object, string][] = [];
  const at = (key: string, target: object, name: string, bytesOf?: (a: unknown[]) => number, after?: (r: unknown) => void) => {
    spy(counters, key, target, name, bytesOf, after);
    wrapped.push([target, name]);
  };
  at('device.createBuffer', device, 'createBuffer', (a) => (a[0] as GPUBufferDescriptor).size);
  at('device.createBindGroup', device, 'createBindGroup');
  at('queue.writeBuffer', device.queue, 'writeBuffer', (a) => Number(a[4] ?? (a[2] as ArrayBuffer).byteLength ?? 0));
  at('queue.submit', device.queue, 'submit');
  const passCalls = (pass: object) => {
    for (const m of ['setPipeline', 'setBindGroup', 'dispatchWorkgroups', 'end']) spy(counters, `pass.${m}`, pass, m);
  };
  at('device.createCommandEncoder', device, 'createCommandEncoder', undefined, (enc) => {
    spy(counters, 'encoder.beginComputePass', enc as object, 'beginComputePass', undefined, (p) => passCalls(p as object));
    spy(counters, 'encoder.copyBufferToBuffer', enc as object, 'copyBufferToBuffer');
    spy(counters, 'encoder.finish', enc as object, 'finish');
  });
  const dispatch = ctx.dispatch;
  const d: CallStats = { calls: 0, ms: 0, bytes: 0 };
  counters['ctx.dispatch (all of it)'] = d;
  ctx.dispatch = (spec) => {
    const t0 = performance.now();
    dispatch.call(ctx, spec);
    d.ms += performance.now() - t0;
    d.calls++;
  };
  return () => {
    for (const [target, name] of wrapped) delete (target as Record<string, unknown>)[name];
    delete (ctx as unknown as Record<string, unknown>)['dispatch'];
  };
}

export interface PhaseProfile {
  /** Per WebGPU call while one forward (all maps) is recorded: calls, total ms, bytes (buffers, writes). */
  recordCalls: Counters;
  /** Same for a forward without capture. */
  recordCallsNoCapture: Counters;
  /** GPU ms per kernel label, summed over one forward with all maps. */
  gpuByLabel: Record<string, { passes: number; ms: number }>;
  /** Same for a forward without capture and with the last position's logits only. */
  gpuByLabelNoCapture: Record<string, { passes: number; ms: number }>;
  /** GPU ms of the last matmul (the unembedding, every position). */
  unembedMs: number;
  /** Latency (run → done), all maps: logits of every position vs the last only. */
  logitsAllMs: number;
  logitsLastMs: number;
  /** Latency without capture, logits of every position vs the last only. */
  noCaptureAllMs: number;
  noCaptureLastMs: number;
}

/** Runs the forward pass a few times for each measurement; medians. */
export async function phaseProfile(ctx: GpuContext, model: Transformer, ids: readonly number[]): Promise<PhaseProfile> {
  const capture = (maps: boolean) => ({ layers: maps ? ('all' as const) : ('none' as const) });
  const latency = async (maps: boolean, logits: 'all' | 'last'): Promise<number> => {
    if (ctx.profiler) ctx.profiler.enabled = false;
    const xs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const r = model.forward(ids, { capture: capture(maps), logits });
      await ctx.sync();
      xs.push(performance.now() - t0);
      r.attention.release();
      ctx.release(r.logits);
    }
    if (ctx.profiler) ctx.profiler.enabled = true;
    return median(xs.slice(2));
  };
  const counted = async (maps: boolean): Promise<Counters> => {
    const counters: Counters = {};
    if (ctx.profiler) ctx.profiler.enabled = false;
    let undo: () => void = () => {};
    try {
      undo = instrument(ctx, counters);
      const r = model.forward(ids, { capture: capture(maps), logits: 'all' });
      await ctx.sync();
      r.attention.release();
      ctx.release(r.logits);
    } catch (e) {
      counters[`failed: ${(e as Error).message}`] = { calls: 0, ms: 0, bytes: 0 };
    } finally {
      undo();
      if (ctx.profiler) ctx.profiler.enabled = true;
    }
    return counters;
  };
  let unembedMs = 0;
  const byLabel = async (maps: boolean): Promise<Record<string, { passes: number; ms: number }>> => {
    const labels: Record<string, { passes: number; ms: number }> = {};
    if (!ctx.profiler) return labels;
    await ctx.timings();
    const runs = 5;
    for (let i = 0; i < runs; i++) {
      const r = model.forward(ids, { capture: capture(maps), logits: maps ? 'all' : 'last' });
      await ctx.sync();
      const t = await ctx.timings();
      r.attention.release();
      ctx.release(r.logits);
      for (const p of t) {
        const e = labels[p.label] ?? { passes: 0, ms: 0 };
        e.passes += 1 / runs;
        e.ms += p.ms / runs;
        labels[p.label] = e;
      }
      const last = t.filter((p) => p.label.startsWith('matmul')).at(-1);
      if (maps) unembedMs += (last?.ms ?? 0) / runs;
    }
    return labels;
  };
  const gpuByLabel = await byLabel(true);
  const gpuByLabelNoCapture = await byLabel(false);
  const profile: PhaseProfile = {
    recordCalls: await counted(true),
    recordCallsNoCapture: await counted(false),
    gpuByLabel,
    gpuByLabelNoCapture,
    unembedMs,
    logitsAllMs: await latency(true, 'all'),
    logitsLastMs: await latency(true, 'last'),
    noCaptureAllMs: await latency(false, 'all'),
    noCaptureLastMs: await latency(false, 'last'),
  };
  const f = (x: number) => x.toFixed(3);
  console.log(`profile T=${ids.length}:`);
  for (const [k, v] of Object.entries(profile.recordCalls))
    console.log(
      `  record (maps) ${k.padEnd(30)} ${String(v.calls).padStart(5)} calls ${f(v.ms).padStart(9)} ms ${v.bytes ? `${(v.bytes / 2 ** 20).toFixed(1)} MiB` : ''}`,
    );
  for (const [k, v] of Object.entries(profile.recordCallsNoCapture))
    console.log(
      `  record (none) ${k.padEnd(30)} ${String(v.calls).padStart(5)} calls ${f(v.ms).padStart(9)} ms ${v.bytes ? `${(v.bytes / 2 ** 20).toFixed(1)} MiB` : ''}`,
    );
  for (const [name, labels] of [['maps', gpuByLabel] as const, ['none', gpuByLabelNoCapture] as const])
    for (const [k, v] of Object.entries(labels).sort((a, b) => b[1].ms - a[1].ms))
      console.log(`  gpu (${name}) ${k.padEnd(22)} ${v.passes.toFixed(0).padStart(4)} passes ${f(v.ms).padStart(9)} ms`);
  console.log(
    `  unembedding ${f(unembedMs)} ms gpu; latency maps all/last logits ${f(profile.logitsAllMs)} / ${f(profile.logitsLastMs)} ms; no capture ${f(profile.noCaptureAllMs)} / ${f(profile.noCaptureLastMs)} ms`,
  );
  return profile;
}
