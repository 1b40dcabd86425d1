import { describe, expect, it } from 'vitest';
import {
  AdapterLimitError,
  BufferPool,
  BufferTooLargeError,
  DeviceLostError,
  GpuContext,
  layerNorm,
  layerNormRef,
  ShaderCompileError,
  WebGpuUnavailableError,
} from '../../src/index.js';
import { createNodeContext, nodeGpu } from '../../src/node.js';
import { expectClose, randn, useGpu } from '../helpers.js';

describe('GpuContext', () => {
  const gpu = useGpu();

  it('reports the adapter limits it was granted', () => {
    const l = gpu().limits;
    expect(l.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(l.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(gpu().adapter.features.length).toBeGreaterThan(0);
  });

  it('an impossible buffer gives a typed, actionable error (sync and async paths)', async () => {
    const ctx = gpu();
    const huge = [1 << 20, 1 << 14]; // 64 GiB of f32
    expect(() => ctx.createTensor(huge, 'f32', 'attention capture')).toThrow(BufferTooLargeError);
    try {
      ctx.createTensor(huge, 'f32', 'attention capture');
    } catch (e) {
      const err = e as BufferTooLargeError;
      expect(err.message).toMatch(/"attention capture" would need 64\.0 GiB/);
      expect(err.message).toMatch(/allows .* per buffer/);
      expect(err.fix).toMatch(/shorter prompt/);
      expect(err.maxBytes).toBe(Math.min(ctx.limits.maxBufferSize, ctx.limits.maxStorageBufferBindingSize));
    }
    await expect(ctx.allocateTensor(huge, 'f32', 'weights')).rejects.toBeInstanceOf(BufferTooLargeError);
    // The context stays usable afterwards.
    const x = randn(8, 1);
    expect(Array.from(await ctx.readF32(ctx.upload(x)))).toEqual(Array.from(x));
  });

  it('refuses requirements beyond the adapter before requesting a device', async () => {
    await expect(GpuContext.acquire({ gpu: nodeGpu(), requirements: { maxBufferBytes: 2 ** 50, purpose: 'A 500B-parameter model' } })).rejects.toThrow(
      /A 500B-parameter model needs maxStorageBufferBindingSize = 1024 TiB/,
    );
    await expect(GpuContext.acquire({ gpu: nodeGpu(), requirements: { maxBufferBytes: 2 ** 50 } })).rejects.toBeInstanceOf(AdapterLimitError);
  });

  it('without navigator.gpu says WebGPU is unavailable', async () => {
    await expect(GpuContext.acquire({ gpu: undefined })).rejects.toBeInstanceOf(WebGpuUnavailableError);
  });

  it('a lost device surfaces as DeviceLostError on every later call', async () => {
    const ctx = await createNodeContext();
    const seen: DeviceLostError[] = [];
    ctx.onLost((e) => seen.push(e));
    const t = ctx.upload(randn(16, 2));
    ctx.device.destroy(); // what a driver reset looks like to the page
    await ctx.device.lost;
    await new Promise((r) => setTimeout(r, 0));
    expect(ctx.isLost).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.message).toMatch(/GPU device was lost \(destroyed/);
    expect(seen[0]!.fix).toMatch(/reload the model/);
    expect(() => ctx.createTensor([4])).toThrow(DeviceLostError);
    expect(() => layerNorm(ctx, { x: t, eps: 1e-5 })).toThrow(DeviceLostError);
    await expect(ctx.readF32(t)).rejects.toBeInstanceOf(DeviceLostError);
  });

  it('a WGSL compile error becomes a ShaderCompileError at the next sync', async () => {
    const ctx = await createNodeContext();
    ctx.pipelines.get('broken', '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }');
    await expect(ctx.sync()).rejects.toBeInstanceOf(ShaderCompileError);
    ctx.destroy();
  });

  it('the pipeline cache compiles identical WGSL once', () => {
    const ctx = gpu();
    const code = '@group(0) @binding(0) var<storage, read_write> a: array<f32>; @compute @workgroup_size(1) fn main() { a[0] = 1.0; }';
    const p1 = ctx.pipelines.get('k', code);
    const p2 = ctx.pipelines.get('k', code);
    expect(p1).toBe(p2);
  });

  it('profiling records one timing per pass', async () => {
    const ctx = await createNodeContext({ profile: true });
    if (!ctx.profiler) return ctx.destroy(); // adapter without timestamp-query
    const x = ctx.upload(randn(4 * 64, 3), [4, 64]);
    layerNorm(ctx, { x, eps: 1e-5 });
    layerNorm(ctx, { x, eps: 1e-5 });
    const t = await ctx.timings();
    expect(t.map((p) => p.label)).toEqual(['layerNorm', 'layerNorm']);
    for (const p of t) expect(p.ms).toBeGreaterThanOrEqual(0);
    ctx.destroy();
  });

  it('cached bind groups: a repeated dispatch reuses its bind group, reads the buffers as they are now, and other params get their own', async () => {
    const ctx = gpu();
    const a = randn(3 * 40, 5);
    const b = randn(3 * 40, 6);
    const x = ctx.upload(a, [3, 40]);
    const y1 = ctx.createTensor([3, 40]);
    const y2 = ctx.createTensor([3, 40]);
    layerNorm(ctx, { x, eps: 1e-5, out: y1 });
    const { hits, misses } = ctx.bindGroups;
    layerNorm(ctx, { x, eps: 1e-5, out: y1 });
    expect([ctx.bindGroups.hits - hits, ctx.bindGroups.misses - misses]).toEqual([1, 0]);
    layerNorm(ctx, { x, eps: 0.5, out: y2 }); // other params: another bind group and uniform
    expect(ctx.bindGroups.misses - misses).toBe(1);
    expectClose(await ctx.readF32(y1), layerNormRef(a, 40, null, null, 1e-5), 1e-5);
    expectClose(await ctx.readF32(y2), layerNormRef(a, 40, null, null, 0.5), 1e-5);
    ctx.write(x, b); // new contents, same buffer: the cached bind group reads them
    layerNorm(ctx, { x, eps: 1e-5, out: y1 });
    expectClose(await ctx.readF32(y1), layerNormRef(b, 40, null, null, 1e-5), 1e-5);
    ctx.release(x, y1, y2);
  });

  it('dispatches share a pass until a copy, and a submit goes out every flushEvery dispatches', async () => {
    const ctx = await createNodeContext();
    ctx.flushEvery = 3;
    let submits = 0;
    const submit = ctx.device.queue.submit.bind(ctx.device.queue);
    const counted = (cbs: GPUCommandBuffer[]) => {
      submits++;
      submit(cbs);
    };
    Object.defineProperty(ctx.device.queue, 'submit', { configurable: true, value: counted });
    const a = randn(2 * 16, 9);
    const x = ctx.upload(a, [2, 16]);
    const y = layerNorm(ctx, { x, eps: 1e-5 });
    const z = layerNorm(ctx, { x: y, eps: 1e-5 }); // reads what the previous dispatch of the pass wrote
    const copy = ctx.createTensor([2, 16]);
    ctx.copy(z, copy);
    expect(submits).toBe(0);
    layerNorm(ctx, { x: copy, eps: 1e-5, out: y }); // third dispatch: submitted
    expect(submits).toBe(1);
    const once = layerNormRef(a, 16, null, null, 1e-5);
    const twice = layerNormRef(once, 16, null, null, 1e-5);
    expectClose(await ctx.readF32(y), layerNormRef(twice, 16, null, null, 1e-5), 1e-5);
    ctx.destroy();
  });
});

describe('BufferPool', () => {
  it('size classes round up by at most 25% and are monotone', () => {
    let prev = 0;
    for (let n = 1; n < 1e7; n = Math.ceil(n * 1.37)) {
      const c = BufferPool.sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c % 16).toBe(0);
      if (n > 256) expect(c / n).toBeLessThanOrEqual(1.25 + 1e-9);
      expect(c).toBeGreaterThanOrEqual(prev);
      prev = c;
    }
  });

  const gpu = useGpu();
  it('a buffer released while commands are pending is not reused by an upload before they run', async () => {
    const ctx = gpu();
    const a = randn(4 * 64, 11);
    const ta = ctx.upload(a, [4, 64]);
    const y = layerNorm(ctx, { x: ta, eps: 1e-5 }); // recorded, not yet submitted
    ctx.release(ta);
    const tb = ctx.upload(new Float32Array(4 * 64).fill(7), [4, 64]); // same size class
    expect(tb.buffer).not.toBe(ta.buffer);
    expectClose(await ctx.readF32(y), layerNormRef(a, 64, null, null, 1e-5), 1e-5);
    ctx.release(tb);
  });

  it('reuses released buffers of the same class and usage', () => {
    const ctx = gpu();
    const a = ctx.createTensor([1000]);
    const buf = a.buffer;
    ctx.release(a);
    const b = ctx.createTensor([1001]);
    expect(b.buffer).toBe(buf);
    const c = ctx.createTensor([1000]);
    expect(c.buffer).not.toBe(buf);
    ctx.release(b, c);
    expect(ctx.pool.stats.pooledBuffers).toBeGreaterThanOrEqual(2);
  });
});
