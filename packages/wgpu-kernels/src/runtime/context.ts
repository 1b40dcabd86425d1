import { BindGroupCache, type BufferRange } from './bind-group-cache.js';
import { BufferPool } from './buffer-pool.js';
import {
  AdapterLimitError,
  BufferTooLargeError,
  DeviceLostError,
  GpuOutOfMemoryError,
  type HeadscopeGpuError,
  ShaderCompileError,
  WebGpuUnavailableError,
} from './errors.js';
import { type HalfFormat, isHalfFormat, packHalves, unpackHalves } from './half.js';
import { PipelineCache } from './pipeline-cache.js';
import { type PassTiming, Profiler } from './profiler.js';
import { type DType, GpuTensor, shapeSize, tensorBytes } from './tensor.js';
import { BufferUsage, MapMode, TENSOR_USAGE } from './usage.js';

/** What a caller (usually a model) needs from the device; checked against the adapter before requesting. */
export interface GpuRequirements {
  /** Largest single buffer (e.g. the embedding matrix or one layer's attention capture), in bytes. */
  maxBufferBytes?: number;
  /** Workgroup shared memory the kernels use; defaults to what the adapter offers. */
  maxWorkgroupStorageBytes?: number;
  /** Features that must exist; optional ones are requested when present. */
  requiredFeatures?: GPUFeatureName[];
  /** Words for error messages ("GPT-2 small", "this prompt's attention capture"). */
  purpose?: string;
}

export interface AcquireOptions {
  /** The GPU entry point; defaults to `navigator.gpu`. In Node pass `nodeGpu()` from `@headscope/wgpu-kernels/node`. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  requirements?: GpuRequirements;
  /** Record per-pass GPU timings (needs 'timestamp-query'; silently off where absent). */
  profile?: boolean;
}

export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  features: string[];
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
    maxStorageBuffersPerShaderStage: number;
  };
}

export type BindingResource = GPUBuffer | GpuTensor | { buffer: GPUBuffer; offset?: number; size?: number };

export interface DispatchSpec {
  pipeline: GPUComputePipeline;
  /** Bound at @group(0) @binding(i) in order; a params ArrayBuffer becomes a uniform at the next binding. */
  bindings: BindingResource[];
  params?: ArrayBuffer | ArrayBufferView;
  workgroups: [number, number?, number?];
  label: string;
}

const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups' as GPUFeatureName];

/**
 * One WebGPU device with its buffer pool, pipeline cache and (optional) profiler. Kernels record
 * dispatches into the context's open command encoder; `flush()` submits, `read()` flushes and reads.
 */
export class GpuContext {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly profiler: Profiler | undefined;
  readonly features: ReadonlySet<string>;
  readonly bindGroups: BindGroupCache;
  /**
   * Recorded dispatches are submitted after this many, so the GPU starts on the first layers while the
   * CPU records the rest (a whole forward pass recorded before one submit left the GPU idle meanwhile).
   */
  flushEvery = 48;
  /** Dispatches until the next submit (flushEvery after each submit; `flushAfter` may shorten it once). */
  private nextFlush = 48;
  private encoder: GPUCommandEncoder | null = null;
  /** Dispatches share one compute pass until something else is recorded (copies, a submit, a timed pass). */
  private pass: GPUComputePassEncoder | null = null;
  private passPipeline: GPUComputePipeline | null = null;
  private recorded = 0;
  private pendingUniforms: GPUBuffer[] = [];
  private pendingRelease: GPUBuffer[] = [];
  private lostError: DeviceLostError | null = null;
  private readonly deferredErrors: HeadscopeGpuError[] = [];
  private readonly lostListeners = new Set<(e: DeviceLostError) => void>();
  private destroyed = false;
  /** Whether the adapter is a software rasteriser (SwiftShader, llvmpipe): "GPU" work runs on the CPU. */
  readonly software: boolean;

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterReport,
    profile: boolean,
  ) {
    this.features = new Set(device.features as unknown as Iterable<string>);
    this.pool = new BufferPool(device);
    this.bindGroups = new BindGroupCache(device, this.pool, (u) => this.pendingUniforms.push(u));
    // A software adapter (SwiftShader in CI) runs the work on the CPU that records it: early submits overlap nothing.
    this.software = /swiftshader|llvmpipe|lavapipe/i.test(`${adapter.vendor} ${adapter.architecture} ${adapter.description}`);
    if (this.software) this.flushEvery = Number.POSITIVE_INFINITY;
    this.pipelines = new PipelineCache(device, (kernel, msg) => this.deferredErrors.push(new ShaderCompileError(kernel, msg)));
    this.profiler = profile && this.features.has('timestamp-query') ? new Profiler(device) : undefined;
    device.lost.then((info) => {
      if (this.destroyed) return;
      this.lostError = new DeviceLostError(info.reason ?? 'unknown', info.message ?? '');
      for (const l of this.lostListeners) l(this.lostError);
    });
    device.addEventListener?.('uncapturederror', (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      if (err && err.constructor?.name === 'GPUOutOfMemoryError') this.deferredErrors.push(new GpuOutOfMemoryError('(unknown)', 0, err.message));
    });
  }

  /** Acquires an adapter and device, checking `requirements` against the adapter first. */
  static async acquire(options: AcquireOptions = {}): Promise<GpuContext> {
    const gpu = options.gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) throw new WebGpuUnavailableError('this environment has no navigator.gpu');
    let adapter: GPUAdapter | null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    } catch (e) {
      throw new WebGpuUnavailableError(`requestAdapter failed (${(e as Error).message})`);
    }
    if (!adapter) throw new WebGpuUnavailableError('no GPU adapter was found');
    const req = options.requirements ?? {};
    const purpose = req.purpose ?? 'This workload';
    const lim = adapter.limits;
    if (req.maxBufferBytes !== undefined) {
      const allowed = Math.min(lim.maxBufferSize, lim.maxStorageBufferBindingSize);
      if (req.maxBufferBytes > allowed) throw new AdapterLimitError('maxStorageBufferBindingSize', req.maxBufferBytes, allowed, purpose);
    }
    if (req.maxWorkgroupStorageBytes !== undefined && req.maxWorkgroupStorageBytes > lim.maxComputeWorkgroupStorageSize) {
      throw new AdapterLimitError('maxComputeWorkgroupStorageSize', req.maxWorkgroupStorageBytes, lim.maxComputeWorkgroupStorageSize, purpose);
    }
    for (const f of req.requiredFeatures ?? []) {
      if (!adapter.features.has(f)) throw new WebGpuUnavailableError(`the adapter lacks the required feature "${f}"`);
    }
    const wanted = new Set<GPUFeatureName>(req.requiredFeatures ?? []);
    for (const f of OPTIONAL_FEATURES) if (adapter.features.has(f)) wanted.add(f);
    // Ask for everything the adapter offers on the limits kernels care about: models differ in size and
    // the default limits (128 MiB bindings, 16 KiB shared memory) are far below most adapters.
    const requiredLimits: Record<string, number> = {
      maxBufferSize: lim.maxBufferSize,
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: lim.maxComputeWorkgroupSizeY,
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
    };
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredFeatures: [...wanted], requiredLimits });
    } catch (e) {
      throw new WebGpuUnavailableError(`requestDevice failed (${(e as Error).message})`);
    }
    const info = adapter.info ?? ({} as GPUAdapterInfo);
    const report: AdapterReport = {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      description: info.description ?? '',
      features: [...(adapter.features as unknown as Iterable<string>)].sort(),
      limits: {
        maxBufferSize: device.limits.maxBufferSize,
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
        maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
      },
    };
    return new GpuContext(device, report, options.profile ?? false);
  }

  get limits(): AdapterReport['limits'] {
    return this.adapter.limits;
  }

  get isLost(): boolean {
    return this.lostError !== null;
  }

  onLost(listener: (e: DeviceLostError) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Throws the DeviceLostError if the device is gone; every entry point calls it first. */
  assertAlive(): void {
    if (this.lostError) throw this.lostError;
    if (this.destroyed) throw new DeviceLostError('destroyed', 'this GPU context was closed');
  }

  /** Checks a buffer size against the device limits before allocation (sync, no GPU round trip). */
  checkBufferSize(label: string, bytes: number, storage = true): void {
    const max = storage ? Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize) : this.limits.maxBufferSize;
    if (bytes > max) throw new BufferTooLargeError(label, bytes, max);
  }

  /** A pooled tensor buffer (contents undefined). Throws BufferTooLargeError beyond the device limits. */
  createTensor(shape: readonly number[], dtype: DType = 'f32', label = 'tensor'): GpuTensor {
    this.assertAlive();
    const bytes = tensorBytes(shape, dtype);
    this.checkBufferSize(label, bytes);
    return new GpuTensor(this.pool.acquire(bytes, TENSOR_USAGE, label), shape, dtype, label);
  }

  /**
   * A dedicated (unpooled) tensor, allocated inside an out-of-memory error scope: use for big, long-lived
   * buffers (weights, captures) where the driver may refuse. Rejects with GpuOutOfMemoryError.
   */
  async allocateTensor(shape: readonly number[], dtype: DType = 'f32', label = 'tensor'): Promise<GpuTensor> {
    this.assertAlive();
    const bytes = tensorBytes(shape, dtype);
    this.checkBufferSize(label, bytes);
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const buffer = this.device.createBuffer({ size: Math.ceil(bytes / 16) * 16, usage: TENSOR_USAGE, label });
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (oom || validation) {
      buffer.destroy();
      throw new GpuOutOfMemoryError(label, bytes, (oom ?? validation)?.message);
    }
    return new GpuTensor(buffer, shape, dtype, label);
  }

  /** Uploads host data into a new pooled tensor. */
  upload(data: Float32Array | Uint32Array | Int32Array, shape: readonly number[] = [data.length], label = 'upload'): GpuTensor {
    if (shapeSize(shape) !== data.length) throw new Error(`upload ${label}: shape ${shape} does not match ${data.length} values`);
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Uint32Array ? 'u32' : 'i32';
    const t = this.createTensor(shape, dtype, label);
    this.write(t, data);
    return t;
  }

  /**
   * Writes host data into an existing tensor, at an element offset. A 16-bit tensor takes floats (packed
   * here, rounded to nearest even) at an even offset, or its packed words as a Uint32Array.
   */
  write(t: GpuTensor, data: Float32Array | Uint32Array | Int32Array, elementOffset = 0): void {
    this.assertAlive();
    if (data.length === 0) return;
    if (isHalfFormat(t.dtype)) {
      if (elementOffset % 2 !== 0) throw new Error(`write ${t.label}: a 16-bit tensor is written from an even element, not ${elementOffset}`);
      const words = data instanceof Float32Array ? packHalves(data, t.dtype) : data;
      this.device.queue.writeBuffer(t.buffer, elementOffset * 2, words.buffer, words.byteOffset, words.byteLength);
      return;
    }
    this.device.queue.writeBuffer(t.buffer, elementOffset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  /** A dedicated 16-bit tensor holding `data` rounded to the format (weights: see allocateTensor). */
  async uploadHalf(data: Float32Array, shape: readonly number[], format: HalfFormat, label = 'upload'): Promise<GpuTensor> {
    if (shapeSize(shape) !== data.length) throw new Error(`upload ${label}: shape ${shape} does not match ${data.length} values`);
    const t = await this.allocateTensor(shape, format, label);
    this.write(t, data);
    return t;
  }

  /**
   * Returns tensors to the pool. While commands are recorded but not submitted, the buffers wait for the
   * next flush: an upload (queue.writeBuffer) into a reused buffer would otherwise land before the
   * recorded commands that still read the old contents.
   */
  release(...tensors: (GpuTensor | undefined)[]): void {
    for (const t of tensors) {
      if (!t) continue;
      if (this.encoder) this.pendingRelease.push(t.buffer);
      else this.pool.release(t.buffer);
    }
  }

  /** The open command encoder, created on demand, for recording other than dispatches (ends the shared compute pass). */
  get commandEncoder(): GPUCommandEncoder {
    this.endPass();
    return this.openEncoder();
  }

  private openEncoder(): GPUCommandEncoder {
    this.assertAlive();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    if (!this.pass) return;
    this.pass.end();
    this.pass = null;
    this.passPipeline = null;
  }

  /**
   * Records one compute dispatch. Params become a uniform buffer bound after the listed bindings. Bind
   * groups and uniforms are reused across dispatches with the same bindings and params (BindGroupCache);
   * consecutive dispatches share a compute pass (WebGPU orders storage writes between the dispatches of a
   * pass). With the profiler on, each dispatch gets its own timed pass unless `profiler.perDispatch` is off.
   */
  dispatch(spec: DispatchSpec): void {
    this.assertAlive();
    const [x, y = 1, z = 1] = spec.workgroups;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) throw new BufferTooLargeError(`${spec.label} dispatch`, Math.max(x, y, z), maxDim);
    const params = spec.params
      ? spec.params instanceof ArrayBuffer
        ? new Uint8Array(spec.params)
        : new Uint8Array(spec.params.buffer, spec.params.byteOffset, spec.params.byteLength)
      : undefined;
    const bindGroup = this.bindGroups.get(spec.pipeline, spec.bindings.map(toResource), params, spec.label);
    const perDispatch = this.profiler?.enabled && this.profiler.perDispatch;
    const timestampWrites = perDispatch ? this.profiler?.nextPass(spec.label) : undefined;
    let pass: GPUComputePassEncoder;
    if (timestampWrites) {
      this.endPass();
      pass = this.openEncoder().beginComputePass({ label: spec.label, timestampWrites });
    } else {
      if (!this.pass) {
        const shared = this.profiler?.enabled && !this.profiler.perDispatch ? this.profiler.nextPass('pass') : undefined;
        this.pass = this.openEncoder().beginComputePass(shared ? { label: 'pass', timestampWrites: shared } : {});
      }
      pass = this.pass;
    }
    if (pass !== this.pass || this.passPipeline !== spec.pipeline) pass.setPipeline(spec.pipeline);
    if (pass === this.pass) this.passPipeline = spec.pipeline;
    pass.setBindGroup(0, bindGroup);
    if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
    if (timestampWrites) pass.end();
    if (++this.recorded >= Math.min(this.flushEvery, this.nextFlush)) this.flush();
  }

  /**
   * Submits after `n` more dispatches, then every flushEvery again: a pass the GPU (not recording) bounds
   * calls this first, so the GPU starts on the first layer while the rest is recorded (GPT-2 at T = 1024
   * waited ~1 ms for the first 48 dispatches to be recorded).
   */
  flushAfter(n: number): void {
    this.nextFlush = this.recorded + Math.max(1, n);
  }

  /** Records a buffer-to-buffer copy of a whole tensor (or a range, in elements). */
  copy(src: GpuTensor, dst: GpuTensor, srcOffset = 0, dstOffset = 0, count = src.size): void {
    if (count === 0) return;
    if (isHalfFormat(src.dtype) || isHalfFormat(dst.dtype)) {
      // Whole u32 words only: halves of one word cannot be copied apart.
      if (src.dtype !== dst.dtype || srcOffset % 2 || dstOffset % 2 || (count % 2 && srcOffset + count !== src.size))
        throw new Error(`copy ${src.label} → ${dst.label}: 16-bit tensors copy whole words between tensors of the same format`);
      this.commandEncoder.copyBufferToBuffer(src.buffer, srcOffset * 2, dst.buffer, dstOffset * 2, Math.ceil(count / 2) * 4);
      return;
    }
    this.commandEncoder.copyBufferToBuffer(src.buffer, srcOffset * 4, dst.buffer, dstOffset * 4, count * 4);
  }

  /** Submits recorded work. Uniforms return to the pool: later writes are queue-ordered after this submit. */
  flush(): void {
    this.assertAlive();
    if (!this.encoder) return;
    this.endPass();
    this.recorded = 0;
    this.nextFlush = this.flushEvery;
    const cb = this.encoder.finish();
    this.encoder = null;
    this.device.queue.submit([cb]);
    for (const u of this.pendingUniforms) this.pool.release(u);
    for (const b of this.pendingRelease) this.pool.release(b);
    this.pendingUniforms = [];
    this.pendingRelease = [];
  }

  /** Flushes and waits for the GPU to finish; surfaces deferred errors (compile, OOM) as typed errors. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwDeferred();
  }

  private throwDeferred(): void {
    this.assertAlive();
    const e = this.deferredErrors.shift();
    if (e) throw e;
  }

  /** Reads a tensor (or an element range of it) back to the host; a 16-bit tensor comes back unpacked to f32. */
  async read(t: GpuTensor, elementOffset = 0, count = t.size - elementOffset): Promise<Float32Array | Uint32Array | Int32Array> {
    if (isHalfFormat(t.dtype)) {
      // The words holding the range, unpacked here: weight-space analyses read 16-bit weights as floats.
      const firstWord = elementOffset >> 1;
      const words = count > 0 ? Math.ceil((elementOffset + count) / 2) - firstWord : 0;
      const raw = await this.readWords(t, firstWord, words);
      return unpackHalves(raw, t.dtype, elementOffset & 1, count);
    }
    const bytes = count * 4;
    const staging = this.device.createBuffer({
      size: Math.max(4, Math.ceil(bytes / 4) * 4),
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
      label: `${t.label}.readback`,
    });
    if (bytes > 0) this.commandEncoder.copyBufferToBuffer(t.buffer, elementOffset * 4, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(MapMode.READ);
    } catch (e) {
      staging.destroy();
      this.assertAlive();
      throw e;
    }
    const copy = staging.getMappedRange(0, Math.max(4, bytes)).slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.throwDeferred();
    if (t.dtype === 'u32') return new Uint32Array(copy);
    if (t.dtype === 'i32') return new Int32Array(copy);
    return new Float32Array(copy);
  }

  /** Raw u32 words of a buffer (a 16-bit tensor's packed halves). */
  private async readWords(t: GpuTensor, firstWord: number, words: number): Promise<Uint32Array> {
    const r = await this.read(new GpuTensor(t.buffer, [firstWord + words], 'u32', t.label), firstWord, words);
    return r as Uint32Array;
  }

  async readF32(t: GpuTensor, elementOffset = 0, count?: number): Promise<Float32Array> {
    const r = await this.read(t, elementOffset, count);
    return r instanceof Float32Array ? r : new Float32Array(r.buffer);
  }

  async readU32(t: GpuTensor, elementOffset = 0, count?: number): Promise<Uint32Array> {
    const r = await this.read(t, elementOffset, count);
    return r instanceof Uint32Array ? r : new Uint32Array(r.buffer);
  }

  /** Per-pass timings recorded since the last call (empty unless profiling is on). */
  async timings(): Promise<PassTiming[]> {
    this.flush();
    return this.profiler ? this.profiler.read() : [];
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.encoder = null;
    this.pass = null;
    this.pool.destroyAll();
    this.profiler?.destroy();
    this.device.destroy();
  }
}

function toResource(b: BindingResource): BufferRange {
  if (b instanceof GpuTensor) return { buffer: b.buffer, offset: 0, size: Math.ceil(b.byteLength / 4) * 4 };
  // A GPUBuffer has no `buffer` property; a { buffer, offset, size } range does.
  if ('buffer' in b) return { buffer: b.buffer, offset: b.offset ?? 0, ...(b.size !== undefined ? { size: b.size } : {}) };
  return { buffer: b, offset: 0 };
}
