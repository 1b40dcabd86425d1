/**
 * The typed message protocol between the main thread and the engine worker. Every request carries an id;
 * the worker answers once with a result or a typed error, and may send progress events for that id
 * before. A `cancel` message aborts the request with that id (model downloads, inspections).
 */

import type { AtlasProgress, AtlasResult } from '@headscope/analysis';
import type { RetrievalOutcome, RetrievalProgress, RetrievalRequest, RetrievalTestRequest, RetrievalTestView } from './retrieval-protocol.js';
import type { RunCostView } from './run-cost-view.js';

/** Where a model comes from. Local files travel to the worker as File objects (structured clone). */
export type ModelRef =
  /** A model under public/models/<id>/, at `baseUrl` (absolute path on this origin). */
  | { kind: 'bundled'; id: string; baseUrl: string }
  /** `owner/name[@revision]` on huggingface.co, or on `endpoint` (a hub mirror on this origin, e.g. "/hub"). */
  | { kind: 'hub'; repo: string; endpoint?: string }
  | { kind: 'local'; name: string; files: File[] };

/** What the UI shows about a model before and after loading. */
export interface ModelSummary {
  name: string;
  family: string;
  modelType: string;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  dModel: number;
  vocabSize: number;
  nCtx: number;
  parameters: number;
  checkpointBytes: number;
  /** Weights on the GPU as fp32. */
  fp32Bytes: number;
  /** Weights on the GPU as the WebGPU engine keeps them, when an F16/BF16 checkpoint's matrices stay 16-bit. */
  gpuWeights?: { bytes: number; as: 'f16' | 'bf16' };
  /** Attention capture (every layer and head, fp32) of a `captureTokens`-token prompt. */
  captureBytes: number;
  captureTokens: number;
  /** The largest weight as the engine holds it ('f16'/'bf16': kept at 16 bits; absent: fp32). */
  largestTensor: { name: string; bytes: number; as?: 'f16' | 'bf16' };
  /** The adapter's largest buffer (every weight tensor must fit one); absent on the CPU path. */
  maxBufferBytes?: number;
  /** Whether this adapter's limits (or the CPU path's size limit) allow the model, and if not, why. */
  fits: { ok: true } | { ok: false; reason: string };
  /** 'onnx': an ONNX export, run by onnxruntime-web (absent: a safetensors checkpoint on Headscope's engine). */
  format?: 'safetensors' | 'onnx';
  /** What the model cannot do on its engine, with the reason (the UI greys those controls out). */
  unavailable?: UnavailableFeature[];
}

export type FeatureName = 'interventions' | 'kv-decoding' | 'weights';

export interface UnavailableFeature {
  feature: FeatureName;
  reason: string;
}

export interface LoadedSummary extends ModelSummary {
  addBos: boolean;
  bosTokenId: number | null;
  /** What runs the model: "Headscope WebGPU engine", "onnxruntime-web (WebGPU execution provider)", … */
  runtime?: string;
}

export interface AdapterSummary {
  description: string;
  maxBufferBytes: number;
  features: string[];
}

/**
 * Where models run: WebGPU on `adapter`; or, without WebGPU (`reason` says why, `fix` what to do), the CPU
 * reference path for models up to `maxParameters`; or nowhere (`error`).
 */
export type GpuProbe =
  | { ok: true; backend: 'webgpu'; adapter: AdapterSummary }
  | { ok: true; backend: 'cpu'; reason: string; fix: string; maxParameters: number }
  | { ok: false; error: EngineErrorInfo };

export interface EncodeResult {
  ids: number[];
  texts: string[];
  /** What running these ids will cost on the WebGPU engine (absent on the CPU and ONNX paths). */
  cost?: RunCostView;
}

/** Per-head numbers for the grid, [nLayers × nHeads] row-major. */
export interface HeadMetrics {
  /** Mean row entropy (nats). */
  entropy: Float32Array;
  /** Mean attention on the first token over queries 1… (query 0 sees only key 0). */
  firstMass: Float32Array;
  /** The largest column importance (mean attention a key receives from the queries that see it). */
  maxColumn: Float32Array;
}

export type MetricName = keyof HeadMetrics;

export interface RunSummary {
  runId: number;
  tokens: number;
  nLayers: number;
  nHeads: number;
  metrics: HeadMetrics;
  /** [nLayers, nHeads, thumb, thumb] max-pooled maps for the grid. */
  thumbs: Float32Array;
  thumb: number;
  /** Wall time of the forward pass plus the reductions and thumbnails, in the worker. */
  ms: number;
  /** The forward pass alone (until the GPU finished it). */
  forwardMs: number;
  /** Per layer, the sliding window (keys at or beyond it behind the query are masked) or null; absent = none. */
  windows?: (number | null)[];
}

/** A rectangle of one head's matrix, rows [q0, q0+rows·stride) × keys [k0, k0+cols·stride), each cell the max of stride×stride values. */
export interface MatrixWindow {
  q0: number;
  k0: number;
  rows: number;
  cols: number;
  stride: number;
  values: Float32Array;
}

export interface WindowRequest {
  q0: number;
  q1: number;
  k0: number;
  k1: number;
  stride: number;
}

export interface Prediction {
  id: number;
  text: string;
  prob: number;
}

/** The Cache API cache that hub downloads fill (the bundled model is never cached). */
export const MODEL_CACHE = 'headscope-models';

export interface CachedModel {
  /** The base URL the files were downloaded from. */
  base: string;
  label: string;
  files: number;
  bytes: number;
}

export interface LoadProgressInfo {
  file: string;
  loaded: number;
  total: number | undefined;
  bytesPerSecond: number;
}

/** A serialisable error: the class name, the message and the one-sentence fix where the engine gave one. */
export interface EngineErrorInfo {
  name: string;
  message: string;
  fix?: string;
}

/** Request → response types, by request kind. */
export interface EngineApi {
  probe: { req: Record<string, never>; res: GpuProbe };
  inspect: { req: { ref: ModelRef }; res: ModelSummary };
  load: { req: { ref: ModelRef }; res: LoadedSummary };
  encode: { req: { text: string; bos: boolean }; res: EncodeResult };
  run: { req: { ids: number[] }; res: RunSummary };
  window: { req: { runId: number; layer: number; head: number; window: WindowRequest }; res: MatrixWindow };
  row: { req: { runId: number; layer: number; head: number; query: number }; res: Float32Array };
  value: { req: { runId: number; layer: number; head: number; query: number; key: number }; res: number };
  topk: { req: { runId: number; position: number; k: number }; res: Prediction[] };
  captures: { req: { runId: number }; res: Uint8Array };
  calibrate: { req: CalibrationRequest; res: CalibrationView };
  retrieval: { req: RetrievalRequest; res: RetrievalOutcome };
  retrievalTest: { req: RetrievalTestRequest; res: RetrievalTestView };
  successor: { req: { variant: SuccessorVariant }; res: SuccessorOverview };
  successorHead: { req: { variant: SuccessorVariant; layer: number; head: number }; res: SuccessorHeadView };
  successorBehaviour: { req: { layer: number; head: number; perTask: number }; res: SuccessorBehaviourView };
  atlas: { req: AtlasRequest; res: AtlasResult };
}

/** The head atlas over a prompt set (settings by registry key; the worker checks them). */
export interface AtlasRequest {
  prompts: string[];
  settings: Record<string, unknown>;
  bos: boolean;
}

/** What a request's progress events carry: download progress, the retrieval lab's finished tests, the atlas's sequences done, or the successor check's passes. */
export type ProgressOf<K extends EngineKind> = K extends 'retrieval'
  ? RetrievalProgress
  : K extends 'atlas'
    ? AtlasProgress
    : K extends 'successorBehaviour'
      ? SuccessorBehaviourProgress
      : LoadProgressInfo;

export type EngineKind = keyof EngineApi;

export type RequestMessage = {
  [K in EngineKind]: { type: 'request'; id: number; kind: K; args: EngineApi[K]['req'] };
}[EngineKind];

export type WorkerToMain =
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: EngineErrorInfo }
  | { type: 'progress'; id: number; progress: LoadProgressInfo | RetrievalProgress | AtlasProgress | SuccessorBehaviourProgress };

export type MainToWorker = RequestMessage | { type: 'cancel'; id: number };

export function toErrorInfo(e: unknown): EngineErrorInfo {
  if (e instanceof Error) {
    const fix = (e as { fix?: unknown }).fix;
    return { name: e.name, message: e.message, ...(typeof fix === 'string' ? { fix } : {}) };
  }
  return { name: 'Error', message: String(e) };
}

/** An error re-created on the main thread from the worker's EngineErrorInfo. */
export class EngineError extends Error {
  readonly fix: string | undefined;
  constructor(info: EngineErrorInfo) {
    super(info.message);
    this.name = info.name;
    this.fix = info.fix;
  }
}

/** The calibration panel's settings (heads as typed: `layer.head` list or `all`). */
export interface CalibrationSettings {
  act: { on: boolean; heads: string; tau: number; tauMode: 'absolute' | 'relative'; beta: number };
  zeroTuning: { on: boolean; heads: string; gamma: number };
}

export interface CalibrationRequest {
  ids: number[];
  settings: CalibrationSettings;
  layer: number;
  head: number;
  /** Query position of the predictions. */
  position: number;
  k: number;
}

export interface RankedPrediction extends Prediction {
  /** 1-based rank of this token in the other run (before ↔ after). */
  otherRank: number;
  otherProb: number;
}

/** One calibrated run against the uncalibrated one, for the panel. */
export interface CalibrationView {
  tokens: number;
  /** The selected head's [T, T] maps. */
  before: Float32Array;
  after: Float32Array;
  predictionsBefore: RankedPrediction[];
  predictionsAfter: RankedPrediction[];
  /** [nLayers × nHeads]: mean over query rows of the total-variation distance between the two rows (0 … 1). */
  headChange: Float32Array;
  /** Heads whose column importance, uncalibrated, has a key above τ besides the first such key (ACT's Sraw minus its first). */
  hiddenSinkHeads: string;
  /** How many interventions the settings gave. */
  interventions: number;
  /** The calibrated forward pass and its read-back, in the worker. */
  ms: number;
}

/** The successor panel (methods.md §5): which effective embedding the OV-circuit score uses. */
export type SuccessorVariant = 'mlp0' | 'mlp0+embedding' | 'embedding';

export interface SuccessorTaskInfo {
  id: string;
  label: string;
  /** Words the task defines; `members` are those that are single tokens here, in order. */
  total: number;
  members: { text: string; token: number }[];
  /** (t, succ t) as member indices. */
  pairs: [number, number][];
}

/** Every head's succession score, the tasks the tokenizer has, and the top head. */
export interface SuccessorOverview {
  variant: SuccessorVariant;
  /** "numbers: 187 of 200 single tokens; …" */
  report: string;
  tasks: SuccessorTaskInfo[];
  /** [nLayers × nHeads] */
  scores: Float32Array;
  top: { layer: number; head: number; score: number };
  ms: number;
}

/** One prompt of the behavioural check, for the selected head. */
export interface SuccessorBehaviourRow {
  kind: 'ordinal' | 'control';
  task: string;
  text: string;
  itemText: string;
  successorText: string;
  /** Attention from the final comma to the last item. */
  attention: number;
  /** Direct logit attribution to the successor and to the item. */
  successor: number;
  item: number;
}

export interface SuccessorHeadBehaviour {
  attention: number;
  controlAttention: number;
  successorWins: number;
  margin: number;
  controlMargin: number;
  holds: boolean;
  attentionThreshold: number;
  prompts: SuccessorBehaviourRow[];
}

/** Passes of the behavioural check done so far (one per prompt). */
export interface SuccessorBehaviourProgress {
  done: number;
  total: number;
}

/** The behavioural check of one head (run for every head once per model), or why there is none. */
export interface SuccessorBehaviourView {
  layer: number;
  head: number;
  behaviour?: SuccessorHeadBehaviour;
  /** Why there is no behavioural check (the tokenizer has no "," token, …). */
  error?: string;
  ms: number;
}

/** The selected head: per-task success and each task's n × n OV logits. */
export interface SuccessorHeadView {
  variant: SuccessorVariant;
  layer: number;
  head: number;
  score: number;
  /** Success per task id. */
  tasks: Record<string, number>;
  /** Per task (overview order): row t, column j = the head's OV logit of member j for member t. */
  blocks: Float32Array[];
  ms: number;
}
