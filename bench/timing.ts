/** Timing for the kernel benchmark: warm-up to loaded clocks, pipelined samples, per-copy diagnosis. */
import type { GpuContext } from '../packages/wgpu-kernels/src/runtime/context.js';

export interface Timing {
  gpuMs: number | null;
  wallMs: number;
}

export interface TimingOptions {
  /** Untimed runs first (compilation, first use). */
  warmup: number;
  /** Timed samples; the median is reported. */
  reps: number;
  /** GPU time one sample covers. */
  sampleMs: number;
  /** GPU kept busy before sampling, so it runs at its loaded clocks. */
  warmMs: number;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2 : Number.NaN;
};

/**
 * Warm-up, then o.reps timed samples. Dawn rounds GPU timestamps (to 2^16 ns on the H100 seen here), so a
 * sample runs the work back to back for ≥ o.sampleMs of GPU time and reports the per-run mean of the pass
 * durations (rounding errors average out) and of the wall clock.
 *
 * Clocks: the H100 idles at 345 MHz and only reaches 1980 MHz under sustained load; bursts separated by
 * CPU work (uploads, readbacks, recording) left it at 345–615 MHz and GPT-2-sized products ran 2–3× slower
 * (nvidia-smi sampled every 100 ms). So each case first keeps the GPU busy for o.warmMs, and samples are
 * submitted in chunks with the next chunk recorded while the previous one runs.
 */
export async function time(ctx: GpuContext, run: (i: number) => void, o: TimingOptions): Promise<Timing> {
  for (let i = 0; i < o.warmup; i++) run(i);
  await ctx.sync();
  await ctx.timings();
  const w0 = performance.now();
  for (let i = 0; i < 5; i++) run(i);
  await ctx.sync();
  const wallEst = (performance.now() - w0) / 5; // after warm-up: no compilation inside
  const probe = await ctx.timings();
  const gpuEst = probe.length ? probe.reduce((a, p) => a + p.ms, 0) / 5 : wallEst;
  const passesPerRun = Math.max(1, probe.length / 5);
  // The profiler times up to 1024 passes between reads.
  const perSample = Math.max(1, Math.min(Math.floor(1000 / passesPerRun), Math.ceil(o.sampleMs / Math.max(gpuEst, 1e-3))));
  const chunk = Math.max(1, Math.min(perSample, Math.ceil(1 / Math.max(gpuEst, 1e-3)))); // ~1 ms of GPU work
  let n = 0;
  const busy = async (runs: number): Promise<void> => {
    let inFlight: Promise<unknown> | null = null;
    for (let done = 0; done < runs; done += chunk) {
      for (let j = 0; j < Math.min(chunk, runs - done); j++) run(n++);
      ctx.flush();
      const submitted = ctx.device.queue.onSubmittedWorkDone();
      if (inFlight) await inFlight;
      inFlight = submitted;
    }
    await ctx.sync();
  };
  await busy(Math.ceil(o.warmMs / Math.max(gpuEst, 1e-3)));
  await ctx.timings();
  const gpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < o.reps; i++) {
    const t0 = performance.now();
    await busy(perSample);
    wall.push((performance.now() - t0) / perSample);
    const passes = await ctx.timings();
    if (passes.length) gpu.push(passes.reduce((a, p) => a + p.ms, 0) / perSample);
  }
  return { gpuMs: gpu.length ? median(gpu) : null, wallMs: median(wall) };
}

/**
 * Diagnosis for cold weights: the mean GPU time of the product on each weight copy (rounds over all copies,
 * so each read comes from device memory). A copy much slower than the rest points at where its memory lives.
 */
export async function perSet(ctx: GpuContext, name: string, sets: number, run: (set: number) => void): Promise<void> {
  const rounds = 30;
  const perRun: number[][] = Array.from({ length: sets }, () => []);
  for (let r = 0; r < rounds; r++) {
    for (let s = 0; s < sets; s++) run(s);
    await ctx.sync();
    const passes = await ctx.timings();
    const per = passes.length / sets;
    for (let s = 0; s < sets; s++) perRun[s]?.push(passes.slice(s * per, (s + 1) * per).reduce((a, p) => a + p.ms, 0));
  }
  const means = perRun.map((v) => v.slice(5).reduce((a, b) => a + b, 0) / (v.length - 5));
  console.log(`per-set ${name}: ${means.map((m) => (m * 1000).toFixed(0)).join(' ')} us`);
}
