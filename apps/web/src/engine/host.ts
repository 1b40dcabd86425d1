/**
 * The engine as the worker hosts it: one GPU context, at most one loaded model and one run at a time.
 * Attention stays on the GPU; a head's matrix is read back only when a view asks for a window of it, and
 * a few recently read heads are kept here (never on the main thread) so that pans and hovers are cheap.
 * Without WebGPU, models up to CPU_MAX_PARAMETERS run on the CPU reference path (host arrays, same views).
 */

import { type AtlasModel, type AtlasProgress, type AtlasResult, atlasModelOf, runAtlas } from '@headscope/analysis';
import {
  type AttentionStore,
  BrowserFilesSource,
  bundledSource,
  CPU_MAX_PARAMETERS,
  type CpuAttentionStore,
  type CpuLoadedModel,
  encodeSafetensors,
  type FileSource,
  hubSource,
  inspectModel,
  inspectOnnx,
  type LoadedModel,
  loadModel,
  loadModelCpu,
  loadOnnxModel,
  MissingFileError,
  type ModelInspection,
  ModelLoadError,
  type OnnxInspection,
  type OnnxLoadedModel,
  onnxCapabilities,
  type TensorToWrite,
} from '@headscope/models';
import { GpuContext, type GpuTensor, WebGpuUnavailableError } from '@headscope/wgpu-kernels';
import { CalibrationRunner } from './calibration.js';
import { cutWindow, headMetricValues, thumbnails, topKFromLogits } from './matrix.js';
import type {
  AtlasRequest,
  CalibrationRequest,
  CalibrationView,
  EncodeResult,
  GpuProbe,
  LoadedSummary,
  LoadProgressInfo,
  MatrixWindow,
  ModelRef,
  ModelSummary,
  Prediction,
  RunSummary,
  SuccessorBehaviourProgress,
  SuccessorBehaviourView,
  SuccessorHeadView,
  SuccessorOverview,
  SuccessorVariant,
  UnavailableFeature,
  WindowRequest,
} from './protocol.js';
import { MODEL_CACHE, toErrorInfo } from './protocol.js';
import { RetrievalNeedsGpuError, runLab, viewTest } from './retrieval.js';
import type { RetrievalOutcome, RetrievalProgress, RetrievalRequest, RetrievalTestRequest, RetrievalTestView } from './retrieval-protocol.js';
import { type RunCostView, runCostView } from './run-cost-view.js';
import { SuccessorRunner } from './successor.js';

/** Longest prompt the memory estimate assumes. */
const CAPTURE_TOKENS = 1024;
const THUMB = 24;
/** Bytes of read-back heads kept in the worker. */
const HEAD_CACHE_BYTES = 64 << 20;

interface ActiveRun {
  id: number;
  ids: number[];
  /**
   * On the WebGPU engine, the final norm's rows [T, d_model], from which a position's logits are made
   * when it is looked at (a quarter of GPT-2's pass at T = 1024 is the unembedding of every position);
   * the logits [T, V] themselves on the host for the CPU and ONNX paths.
   */
  logits: { final: GpuTensor } | Float32Array;
  attention: AttentionStore | CpuAttentionStore;
}

type AnyModel = LoadedModel | CpuLoadedModel | OnnxLoadedModel;

/** Where models run: a WebGPU context, or the CPU path because WebGPU is unavailable (`reason`). */
type Backend = { kind: 'webgpu'; ctx: GpuContext } | { kind: 'cpu'; reason: WebGpuUnavailableError };

export class EngineHost {
  private ctxPromise: Promise<GpuContext> | undefined;
  private model: AnyModel | undefined;
  private run: ActiveRun | undefined;
  private nextRunId = 1;
  private readonly heads = new Map<string, Float32Array>();
  private headBytes = 0;
  private readonly calibration = new CalibrationRunner();
  private readonly successors = new SuccessorRunner();
  /** The atlas's view of the loaded model (its successor analysis is cached per option set). */
  private atlasModel: { of: AnyModel; model: AtlasModel } | undefined;

  constructor(private readonly origin: string) {}

  private context(): Promise<GpuContext> {
    this.ctxPromise ??= GpuContext.acquire();
    // A failed acquisition is not cached: the user may enable WebGPU and retry.
    this.ctxPromise.catch(() => {
      this.ctxPromise = undefined;
    });
    return this.ctxPromise;
  }

  /** WebGPU when it can be had; the CPU path when it is unavailable; other errors propagate. */
  private async backend(): Promise<Backend> {
    try {
      return { kind: 'webgpu', ctx: await this.context() };
    } catch (e) {
      if (e instanceof WebGpuUnavailableError) return { kind: 'cpu', reason: e };
      throw e;
    }
  }

  async probe(): Promise<GpuProbe> {
    try {
      const b = await this.backend();
      if (b.kind === 'cpu') return { ok: true, backend: 'cpu', reason: unavailableReason(b.reason), fix: b.reason.fix, maxParameters: CPU_MAX_PARAMETERS };
      const a = b.ctx.adapter;
      return {
        ok: true,
        backend: 'webgpu',
        adapter: {
          description: [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'WebGPU adapter',
          maxBufferBytes: Math.min(a.limits.maxBufferSize, a.limits.maxStorageBufferBindingSize),
          features: a.features,
        },
      };
    } catch (e) {
      return { ok: false, error: toErrorInfo(e) };
    }
  }

  source(ref: ModelRef): FileSource {
    // The bundled model is served with the app and may change with it: never cache it.
    if (ref.kind === 'bundled') return bundledSource(new URL(ref.baseUrl, this.origin).href, { cache: null, name: `the bundled model "${ref.id}"` });
    if (ref.kind === 'hub') {
      // A mirror on this origin (the page's CSP allows no other besides the hub itself).
      const endpoint = ref.endpoint ? new URL(ref.endpoint, this.origin).href : undefined;
      return hubSource(ref.repo, { cacheName: MODEL_CACHE, ...(endpoint ? { endpoint } : {}) });
    }
    return new BrowserFilesSource(ref.files, ref.name);
  }

  async inspect(ref: ModelRef, signal: AbortSignal): Promise<ModelSummary> {
    const b = await this.backend();
    const onnx = await inspectOnnx(this.source(ref), signal).catch((e: unknown) => explainMissing(ref, e));
    if (onnx) return summariseOnnx(this.source(ref).name, onnx);
    const report = await inspectModel(this.source(ref), { signal }).catch((e: unknown) => explainMissing(ref, e));
    return summarise(report, b.kind === 'cpu' ? 'cpu' : maxBufferOf(b.ctx));
  }

  /**
   * Loads on the GPU, or on the CPU reference path where there is no WebGPU. The headers are inspected first
   * (on the GPU against the device's buffer limit); the CPU loader checks its size limit from the headers too,
   * so neither reads a weight of a model it cannot hold.
   */
  async load(ref: ModelRef, signal: AbortSignal, onProgress: (p: LoadProgressInfo) => void): Promise<LoadedSummary> {
    const b = await this.backend();
    const source = this.source(ref);
    const onnx = await inspectOnnx(source, signal).catch((e: unknown) => explainMissing(ref, e));
    if (onnx) return this.loadOnnx(source, onnx, b.kind === 'webgpu' ? (b.ctx.software ? 'software' : 'gpu') : 'none', signal, onProgress);
    const limit = b.kind === 'cpu' ? 'cpu' : maxBufferOf(b.ctx);
    const report = await inspectModel(source, { signal, ...(limit === 'cpu' ? {} : { maxBufferBytes: limit }) }).catch((e: unknown) => explainMissing(ref, e));
    const options = {
      signal,
      onProgress: (p: LoadProgressInfo) => onProgress({ file: p.file, loaded: p.loaded, total: p.total, bytesPerSecond: p.bytesPerSecond }),
    };
    const model = b.kind === 'cpu' ? await loadModelCpu(source, options) : await loadModel(b.ctx, source, options);
    this.dropRun();
    void this.model?.dispose();
    this.model = model;
    this.calibration.reset();
    this.successors.reset();
    const c = model.config;
    return {
      ...summarise(report, limit),
      addBos: c.addBos,
      bosTokenId: c.bosTokenId,
      runtime: b.kind === 'cpu' ? 'Headscope CPU reference path' : 'Headscope WebGPU engine',
    };
  }

  /**
   * An ONNX export through onnxruntime-web: its WebGPU execution provider on a hardware adapter, else WASM. On a
   * software adapter (SwiftShader) the WebGPU provider emulates the GPU on the CPU and did not finish a 2-layer
   * run in 120 s in Chromium, while WASM took 12 ms: there WASM is the faster path, and the runtime line says why.
   */
  private async loadOnnx(
    source: FileSource,
    report: OnnxInspection,
    adapter: 'gpu' | 'software' | 'none',
    signal: AbortSignal,
    onProgress: (p: LoadProgressInfo) => void,
  ): Promise<LoadedSummary> {
    const model = await loadOnnxModel(source, {
      signal,
      onProgress: (p) => onProgress({ file: p.file, loaded: p.loaded, total: p.total, bytesPerSecond: p.bytesPerSecond }),
      executionProviders: adapter === 'gpu' ? ['webgpu', 'wasm'] : ['wasm'],
    });
    this.dropRun();
    void this.model?.dispose();
    this.model = model;
    this.calibration.reset();
    this.successors.reset();
    const c = model.config;
    const why = adapter === 'software' ? '; WebGPU skipped on a software adapter' : '';
    const runtime = `onnxruntime-web (${model.executionProvider === 'webgpu' ? 'WebGPU' : 'WASM'} execution provider${why})`;
    return { ...summariseOnnx(source.name, report), addBos: c.addBos, bosTokenId: c.bosTokenId, runtime };
  }

  /** The calibration panel: the selected head and the predictions before and after the panel's interventions. */
  calibrate(req: CalibrationRequest): Promise<CalibrationView> {
    const m = this.requireModel();
    if (!('transformer' in m)) throw new Error('Calibration needs the Headscope engine (its attention hooks); this ONNX model cannot be calibrated.');
    return this.calibration.view(m as LoadedModel | CpuLoadedModel, req);
  }

  /** The retrieval lab (needle grid, scores, masking check); each finished test streams through `onProgress`. */
  retrieval(req: RetrievalRequest, signal: AbortSignal, onProgress: (p: RetrievalProgress) => void): Promise<RetrievalOutcome> {
    return runLab(this.gpuModel(), req, signal, onProgress);
  }

  retrievalTest(req: RetrievalTestRequest): Promise<RetrievalTestView> {
    return viewTest(this.gpuModel(), req);
  }

  private gpuModel(): LoadedModel {
    const m = this.requireModel();
    if (isCpu(m)) throw new RetrievalNeedsGpuError('the CPU reference path');
    if (isOnnx(m)) throw new RetrievalNeedsGpuError('onnxruntime-web');
    return m;
  }

  /** The successor panel: every head's OV-circuit score (the weights on the GPU), and one head's detail. */
  successor(variant: SuccessorVariant): Promise<SuccessorOverview> {
    return this.successors.overview(this.requireEngineModel('Successor heads'), variant);
  }

  successorHead(req: { variant: SuccessorVariant; layer: number; head: number }): Promise<SuccessorHeadView> {
    return this.successors.head(this.requireEngineModel('Successor heads'), req);
  }

  successorBehaviour(
    req: { layer: number; head: number; perTask: number },
    signal?: AbortSignal,
    onProgress?: (p: SuccessorBehaviourProgress) => void,
  ): Promise<SuccessorBehaviourView> {
    return this.successors.behaviour(this.requireEngineModel('Successor heads'), req, signal, onProgress);
  }

  /** The loaded model on the WebGPU engine; the CPU path and ONNX models lack the weight access `what` needs. */
  private requireEngineModel(what: string): LoadedModel {
    const m = this.requireModel();
    if (isCpu(m) || isOnnx(m))
      throw new Error(`${what} need the WebGPU engine (weights on the GPU); this model runs on ${isCpu(m) ? 'the CPU path' : 'onnxruntime-web'}.`);
    return m;
  }

  /** The head atlas over a prompt set: per-head numbers only come back (GPU reductions; an ONNX export's maps are reduced in the worker); cancelled through `signal`. */
  atlas(req: AtlasRequest, signal: AbortSignal, onProgress: (p: AtlasProgress) => void): Promise<AtlasResult> {
    const m = this.requireModel();
    if (this.atlasModel?.of !== m) this.atlasModel = { of: m, model: atlasModelOf(m) };
    return runAtlas(this.atlasModel.model, req.prompts, req.settings, { bos: req.bos, signal, onProgress });
  }

  private requireModel(): AnyModel {
    if (!this.model) throw new Error('No model is loaded yet.');
    return this.model;
  }

  encode(text: string, bos: boolean): EncodeResult {
    const m = this.requireModel();
    const ids = m.tokenizer.encode(text, { addBos: bos, checkContext: false });
    const cost = this.runCost(m, ids.length);
    return { ids, texts: ids.map((id) => m.tokenizer.tokenText(id)), ...(cost ? { cost } : {}) };
  }

  /** The cost of `runIds` on the WebGPU engine (every layer's maps; logits on demand), before running. */
  private runCost(m: AnyModel, tokens: number): RunCostView | undefined {
    if (isCpu(m) || isOnnx(m) || tokens === 0 || tokens > m.config.nCtx) return undefined;
    return runCostView(m.transformer.estimate(tokens, { logits: 'none' }), maxBufferOf(m.transformer.ctx));
  }

  /** The run's forward pass: logits on the host (CPU, ONNX) or made per position later (WebGPU). */
  private async forward(m: AnyModel, ids: number[]): Promise<Pick<ActiveRun, 'logits' | 'attention'>> {
    if (isOnnx(m)) return m.run(ids);
    if (isCpu(m)) return m.run(ids, { logits: 'all' });
    const { final, attention } = m.transformer.forward(ids, { logits: 'none' });
    return { logits: { final }, attention };
  }

  async runIds(ids: number[]): Promise<RunSummary> {
    const m = this.requireModel();
    const t0 = performance.now();
    this.dropRun();
    const { logits, attention } = await this.forward(m, ids);
    const run: ActiveRun = { id: this.nextRunId++, ids, logits, attention };
    this.run = run;
    const { nLayers: L, nHeads: H } = m.config;
    const T = ids.length;
    const metrics = { entropy: new Float32Array(L * H), firstMass: new Float32Array(L * H), maxColumn: new Float32Array(L * H) };
    const thumbs = new Float32Array(L * H * THUMB * THUMB);
    if (!isCpu(m) && !isOnnx(m)) await m.transformer.ctx.sync();
    const t1 = performance.now();
    for (let l = 0; l < L; l++) {
      const layer = await attention.layer(l);
      thumbnails(layer, H, T, T, THUMB, thumbs, l * H * THUMB * THUMB);
      // The heads' reductions are read back together: their map requests overlap.
      const stats = await Promise.all(Array.from({ length: H }, (_, h) => attention.stats(l, h)));
      for (let h = 0; h < H; h++) {
        const v = headMetricValues(stats[h]!);
        metrics.entropy[l * H + h] = v.entropy;
        metrics.firstMass[l * H + h] = v.firstMass;
        metrics.maxColumn[l * H + h] = v.maxColumn;
      }
    }
    const t2 = performance.now();
    const layerAttention = 'layerAttention' in m.config ? m.config.layerAttention : undefined;
    const windows = layerAttention?.some((a) => a.window !== null) ? layerAttention.map((a) => a.window) : undefined;
    return { runId: run.id, tokens: T, nLayers: L, nHeads: H, metrics, thumbs, thumb: THUMB, ms: t2 - t0, forwardMs: t1 - t0, ...(windows ? { windows } : {}) };
  }

  private requireRun(runId: number): ActiveRun {
    if (!this.run || this.run.id !== runId) throw new Error(`Run ${runId} was replaced by a newer run; run the prompt again.`);
    return this.run;
  }

  private async head(runId: number, layer: number, head: number): Promise<Float32Array> {
    const run = this.requireRun(runId);
    const key = `${runId}:${layer}:${head}`;
    const hit = this.heads.get(key);
    if (hit) {
      this.heads.delete(key);
      this.heads.set(key, hit);
      return hit;
    }
    const data = await run.attention.head(layer, head);
    this.heads.set(key, data);
    this.headBytes += data.byteLength;
    for (const [k, v] of this.heads) {
      if (this.headBytes <= HEAD_CACHE_BYTES || k === key) break;
      this.heads.delete(k);
      this.headBytes -= v.byteLength;
    }
    return data;
  }

  async window(runId: number, layer: number, head: number, req: WindowRequest): Promise<MatrixWindow> {
    const T = this.requireRun(runId).ids.length;
    return cutWindow(await this.head(runId, layer, head), T, T, req);
  }

  async row(runId: number, layer: number, head: number, query: number): Promise<Float32Array> {
    const T = this.requireRun(runId).ids.length;
    if (!(query >= 0 && query < T)) throw new RangeError(`query ${query} is outside 0..${T - 1}`);
    return (await this.head(runId, layer, head)).slice(query * T, (query + 1) * T);
  }

  async value(runId: number, layer: number, head: number, query: number, key: number): Promise<number> {
    const T = this.requireRun(runId).ids.length;
    if (!(query >= 0 && query < T && key >= 0 && key < T)) throw new RangeError(`cell (${query}, ${key}) is outside the ${T}×${T} matrix`);
    return (await this.head(runId, layer, head))[query * T + key]!;
  }

  async topk(runId: number, position: number, k: number): Promise<Prediction[]> {
    const run = this.requireRun(runId);
    const m = this.requireModel();
    const V = m.config.vocabSize;
    if (!(position >= 0 && position < run.ids.length)) throw new RangeError(`position ${position} is outside 0..${run.ids.length - 1}`);
    const row = await readLogits(m, run.logits, position, 1, V);
    return topKFromLogits(row, k).map((p) => ({ ...p, text: m.tokenizer.tokenText(p.id) }));
  }

  /** Every captured map in the CLI's layout: input_ids i32 [T], logits f32 [T, V], attn.<layer> f32 [H, T, T]. */
  async captures(runId: number): Promise<Uint8Array> {
    const run = this.requireRun(runId);
    const m = this.requireModel();
    const { nLayers: L, nHeads: H, vocabSize: V } = m.config;
    const T = run.ids.length;
    const tensors: TensorToWrite[] = [
      { name: 'input_ids', shape: [T], data: Int32Array.from(run.ids) },
      { name: 'logits', shape: [T, V], data: await readLogits(m, run.logits, 0, T, V) },
    ];
    for (let l = 0; l < L; l++) tensors.push({ name: `attn.${l}`, shape: [H, T, T], data: await run.attention.layer(l) });
    return encodeSafetensors(tensors, { producer: 'headscope', model: m.name });
  }

  private dropRun(): void {
    if (!this.run) return;
    this.run.attention.release();
    const { logits } = this.run;
    if (this.model && !isCpu(this.model) && !isOnnx(this.model) && !(logits instanceof Float32Array)) this.model.transformer.ctx.release(logits.final);
    this.run = undefined;
    this.heads.clear();
    this.headBytes = 0;
  }
}

function isCpu(m: AnyModel): m is CpuLoadedModel {
  return 'backend' in m && m.backend === 'cpu';
}

function isOnnx(m: AnyModel): m is OnnxLoadedModel {
  return 'backend' in m && m.backend === 'onnx';
}

/** "this environment has no navigator.gpu" out of "WebGPU is not available: this environment has no navigator.gpu. <fix>". */
function unavailableReason(e: WebGpuUnavailableError): string {
  const what = e.message.endsWith(e.fix) ? e.message.slice(0, -e.fix.length).trim() : e.message;
  return what.replace(/^WebGPU is not available:\s*/, '').replace(/\.$/, '');
}

function maxBufferOf(ctx: GpuContext): number {
  return Math.min(ctx.limits.maxBufferSize, ctx.limits.maxStorageBufferBindingSize);
}

/** The logits of `count` positions from `from` ([count, V] row-major): made on the GPU, or cut from the host array. */
async function readLogits(m: AnyModel, logits: ActiveRun['logits'], from: number, count: number, V: number): Promise<Float32Array> {
  if (logits instanceof Float32Array) return logits.slice(from * V, (from + count) * V);
  if (isCpu(m) || isOnnx(m)) throw new Error('GPU logits without a GPU model');
  const { transformer } = m;
  const rows = transformer.logitsOf(logits.final, from, count);
  try {
    return await transformer.ctx.readF32(rows);
  } finally {
    transformer.ctx.release(rows);
  }
}

/** A bundled model without config.json is not in this build: say so, rather than "add config.json". */
function explainMissing(ref: ModelRef, e: unknown): never {
  if (ref.kind === 'bundled' && e instanceof MissingFileError && e.file === 'config.json') {
    throw new ModelLoadError(
      `The bundled model "${ref.id}" is not part of this build (${ref.baseUrl}config.json was not found).`,
      `Put its files in public/models/${ref.id}/ and build again, or choose another model.`,
    );
  }
  throw e;
}

/** The report for the UI; `limit` is the WebGPU adapter's largest buffer, or 'cpu' for the CPU path's size limit. */
function summarise(r: ModelInspection, limit: number | 'cpu'): ModelSummary {
  const c = r.config;
  const T = Math.min(c.nCtx, CAPTURE_TOKENS);
  const layerCapture = c.nHeads * T * T * 4;
  const reasons: string[] = [];
  const maxBufferBytes = limit === 'cpu' ? Number.POSITIVE_INFINITY : limit;
  if (limit === 'cpu' && r.parameters > CPU_MAX_PARAMETERS) {
    reasons.push(
      `without WebGPU, models run on the CPU up to ${(CPU_MAX_PARAMETERS / 1e6).toFixed(0)}M parameters and this one has ${(r.parameters / 1e6).toFixed(1)}M (use a browser with WebGPU)`,
    );
  }
  // The WebGPU engine keeps F16/BF16 matrices at 16 bits; the CPU path holds fp32.
  const largest = limit === 'cpu' ? { ...r.largestTensor, dtype: 'f32' as const } : r.largestStored;
  if (largest.bytes > maxBufferBytes) {
    reasons.push(`its largest weight (${largest.name}) needs ${mb(largest.bytes)}, but this adapter allows ${mb(maxBufferBytes)} per buffer`);
  }
  if (layerCapture > maxBufferBytes)
    reasons.push(`one layer's attention for ${T} tokens needs ${mb(layerCapture)}, above the ${mb(maxBufferBytes)} per buffer`);
  return {
    name: r.source,
    family: c.family,
    modelType: c.modelType,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    dModel: c.dModel,
    vocabSize: c.vocabSize,
    nCtx: c.nCtx,
    parameters: r.parameters,
    checkpointBytes: r.checkpointBytes,
    fp32Bytes: r.fp32Bytes,
    ...(halfWeights(r, limit) ?? {}),
    captureBytes: c.nLayers * layerCapture,
    captureTokens: T,
    largestTensor: { name: largest.name, bytes: largest.bytes, ...(largest.dtype !== 'f32' ? { as: largest.dtype } : {}) },
    ...(limit === 'cpu' ? {} : { maxBufferBytes: limit }),
    fits: reasons.length ? { ok: false, reason: reasons.join('; ') } : { ok: true },
  };
}

/** The 16-bit weights of an F16/BF16 checkpoint on the WebGPU engine (the CPU path widens everything to fp32). */
function halfWeights(r: ModelInspection, limit: number | 'cpu'): Pick<ModelSummary, 'gpuWeights'> | undefined {
  const as = r.gpuWeights.dtypes.find((d) => d !== 'f32');
  return limit === 'cpu' || !as ? undefined : { gpuWeights: { bytes: r.gpuWeights.bytes, as } };
}

/** The ONNX path's report for the UI: runs wherever onnxruntime-web does; what it cannot do, said once. */
function summariseOnnx(name: string, r: OnnxInspection): ModelSummary {
  const c = r.config;
  const T = Math.min(c.nCtx, CAPTURE_TOKENS);
  const can = onnxCapabilities(r.report);
  const unavailable: UnavailableFeature[] = [];
  if (!can.hooks.ok) unavailable.push({ feature: 'interventions', reason: can.hooks.reason });
  if (!can.kvDecode.ok) unavailable.push({ feature: 'kv-decoding', reason: can.kvDecode.reason });
  if (!can.weights.ok) unavailable.push({ feature: 'weights', reason: can.weights.reason });
  return {
    name,
    family: c.family,
    modelType: c.modelType,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    dModel: c.dModel,
    vocabSize: c.vocabSize,
    nCtx: c.nCtx,
    parameters: r.parameters,
    checkpointBytes: r.bytes,
    fp32Bytes: r.parameters * 4,
    captureBytes: c.nLayers * c.nHeads * T * T * 4,
    captureTokens: T,
    largestTensor: { name: 'model.onnx', bytes: r.bytes },
    fits: { ok: true },
    format: 'onnx',
    unavailable,
  };
}

function mb(n: number): string {
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}
