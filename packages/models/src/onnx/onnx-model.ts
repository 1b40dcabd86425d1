/**
 * An ONNX export behind the same model interface as the WebGPU engine: tokenizer, logits, and an attention
 * store (host arrays, the CPU path's CpuAttentionStore) filled from the graph's attention Softmax outputs,
 * run by onnxruntime-web (the WebGPU execution provider where the browser has it, WASM otherwise and in Node).
 */
import type * as Ort from 'onnxruntime-web';
import { type CaptureSpec, resolveCapture } from '../engine/captured-maps.js';
import { CpuAttentionStore, type CpuCapturedLayer } from '../engine/cpu-attention-store.js';
import { LoadAbortedError, MissingFileError } from '../errors.js';
import { readTextIfExists } from '../loading/checkpoint.js';
import { halfBitsToFloat } from '../loading/dtype.js';
import { type LoadProgress, ProgressTracker } from '../loading/progress.js';
import { type FileSource, isPlainFileName } from '../loading/source.js';
import { type HeadscopeTokenizer, loadTokenizer } from '../tokenizer/tokenizer.js';
import { analyseGraph, type OnnxGraphReport, parseOnnx, withAttentionOutputs } from './attention-graph.js';
import { ExternalDataLocationError, ExternalDataTruncatedError, OnnxConfigMismatchError } from './errors.js';
import { type OnnxModelConfig, parseOnnxConfig } from './onnx-config.js';

export const ONNX_FILE = 'model.onnx';
/** The hub's layout: the graph (and its external data) in an `onnx/` folder beside config.json. */
export const ONNX_SUBFOLDER = 'onnx';

/** What a model can do beyond a forward pass with every map, and why not where it cannot. */
export interface ModelCapabilities {
  hooks: { ok: true } | { ok: false; reason: string };
  kvDecode: { ok: true } | { ok: false; reason: string };
  weights: { ok: true } | { ok: false; reason: string };
}

export type OnnxExecutionProvider = 'webgpu' | 'wasm';

export interface LoadOnnxOptions {
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** Tried in order; default ['wasm'] (Node) — the browser host passes ['webgpu', 'wasm'] where WebGPU exists. */
  executionProviders?: OnnxExecutionProvider[];
}

export interface OnnxRunResult {
  /** [T, V] */
  logits: Float32Array;
  attention: CpuAttentionStore;
}

export interface OnnxLoadedModel {
  readonly backend: 'onnx';
  readonly name: string;
  readonly config: OnnxModelConfig;
  readonly tokenizer: HeadscopeTokenizer;
  readonly capabilities: ModelCapabilities;
  /** The execution provider the session was created with. */
  readonly executionProvider: OnnxExecutionProvider;
  readonly graph: OnnxGraphReport;
  /** Bytes of model.onnx and its external data. */
  readonly fileBytes: number;
  encode(text: string, options?: { bos?: boolean }): number[];
  run(ids: readonly number[], options?: { capture?: CaptureSpec }): Promise<OnnxRunResult>;
  /** Greedy decoding through the export's past key/values (capabilities.kvDecode must be ok). */
  generateGreedy(ids: readonly number[], maxNewTokens: number, stopIds?: readonly number[]): Promise<number[]>;
  dispose(): Promise<void>;
}

/** What an ONNX export can do, from its graph inputs (undefined: the graph was not read yet). */
export function onnxCapabilities(report: Pick<OnnxGraphReport, 'inputs'> | undefined): ModelCapabilities {
  const hasPast = report?.inputs.some((i) => isPastInput(i.name)) ?? false;
  return {
    hooks: { ok: false, reason: 'an ONNX graph runs as exported: Headscope cannot add logit biases, attention rewrites or head ablations inside it' },
    kvDecode: hasPast
      ? { ok: true }
      : {
          ok: false,
          reason: `this export has no past-key-values inputs${report ? '' : ' that Headscope could see before loading'} (export it with past key values to decode token by token)`,
        },
    weights: { ok: false, reason: 'the ONNX path reads no per-head weights (weight-space analyses need the safetensors checkpoint)' },
  };
}

/** Where model.onnx is: the folder itself, or its `onnx/` subfolder (hub layout); undefined if neither. */
export async function findOnnxGraph(source: FileSource, signal?: AbortSignal): Promise<FileSource | undefined> {
  const read = signal ? { signal } : undefined;
  if ((await source.size(ONNX_FILE, read)) !== undefined) return source;
  const sub = source.subfolder?.(ONNX_SUBFOLDER);
  if (sub && (await sub.size(ONNX_FILE, read)) !== undefined) return sub;
  return undefined;
}

export async function loadOnnxModel(source: FileSource, options: LoadOnnxOptions = {}): Promise<OnnxLoadedModel> {
  const { signal } = options;
  const read = signal ? { signal } : undefined;
  const configText = await readTextIfExists(source, 'config.json', read);
  if (configText === undefined) throw new MissingFileError('config.json', source.name);
  const config = parseOnnxConfig(configText);
  const graphSource = await findOnnxGraph(source, signal);
  if (!graphSource) {
    throw new MissingFileError(
      ONNX_FILE,
      source.name,
      `Add the export's ${ONNX_FILE} to the folder (or an ${ONNX_SUBFOLDER}/ subfolder, as hub repositories have it).`,
    );
  }
  const tokenizer = await loadTokenizer(source, { nCtx: config.nCtx, bosTokenId: config.bosTokenId, eosTokenIds: config.eosTokenIds, ...(read ?? {}) });
  const modelConfig: OnnxModelConfig = { ...config, addBos: tokenizer.addBosDefault, bosTokenId: tokenizer.bosTokenId ?? config.bosTokenId };

  const tracker = new ProgressTracker(options.onProgress);
  const graphBytes = await readWhole(graphSource, ONNX_FILE, tracker, signal);
  const report = analyseGraph(parseOnnx(graphBytes, ONNX_FILE), modelConfig, ONNX_FILE);
  const externalData = await readExternalData(graphSource, report, tracker, signal);
  if (signal?.aborted) throw new LoadAbortedError(source.name);

  const ort = await onnxRuntime();
  const { session, provider } = await createSession(ort, withAttentionOutputs(graphBytes, report), externalData, options.executionProviders ?? ['wasm']);
  const capabilities = onnxCapabilities(report);
  const logitsName = report.outputs.includes('logits') ? 'logits' : report.outputs[0]!;
  const runner = new OnnxRunner(ort, session, report, modelConfig, logitsName);
  return {
    backend: 'onnx',
    name: source.name,
    config: modelConfig,
    tokenizer,
    capabilities,
    executionProvider: provider,
    graph: report,
    fileBytes: graphBytes.byteLength + externalData.reduce((s, e) => s + e.data.byteLength, 0),
    encode: (text, o) => tokenizer.encode(text, { addBos: o?.bos ?? modelConfig.addBos }),
    run: (ids, o) => runner.forward(ids, o?.capture),
    generateGreedy: async (ids, n, stop) => {
      if (!capabilities.kvDecode.ok) throw new Error(`KV-cache decoding is unavailable: ${capabilities.kvDecode.reason}`);
      return runner.greedy(ids, n, stop ?? []);
    },
    dispose: () => session.release(),
  };
}

function isPastInput(name: string): boolean {
  return /^past_key_values[._]/.test(name) || /^past\./.test(name);
}

/** past_key_values.3.key → present.3.key (optimum's and the fixtures' naming). */
function presentFor(past: string): string {
  return past.replace(/^past_key_values/, 'present');
}

async function readWhole(source: FileSource, file: string, tracker: ProgressTracker, signal?: AbortSignal): Promise<Uint8Array> {
  const size = await source.size(file, signal ? { signal } : undefined);
  if (size === undefined) throw new MissingFileError(file, source.name);
  tracker.expect(file, size);
  const out = new Uint8Array(size);
  let at = 0;
  for await (const chunk of source.stream(file, { ...(signal ? { signal } : {}), onProgress: (loaded, total) => tracker.fileProgress(file, loaded, total) })) {
    // A file that grew between size() and the read is cut at the size the graph was checked against.
    out.set(chunk.subarray(0, Math.max(0, size - at)), at);
    at += chunk.byteLength;
  }
  return at >= size ? out : out.subarray(0, at);
}

/**
 * Every external-data file the graph names, with its size, checked before any is read: a location outside
 * the folder, a missing file and one shorter than the tensors placed in it are typed errors.
 */
export async function checkExternalData(source: FileSource, report: OnnxGraphReport, signal?: AbortSignal): Promise<Map<string, number>> {
  const needed = new Map<string, number>();
  for (const t of report.external) {
    if (!isPlainFileName(t.location)) throw new ExternalDataLocationError(t.location);
    needed.set(t.location, Math.max(needed.get(t.location) ?? 0, t.offset + t.length));
  }
  const sizes = new Map<string, number>();
  for (const [file, bytes] of needed) {
    const size = await source.size(file, signal ? { signal } : undefined);
    if (size === undefined) throw new MissingFileError(file, source.name, `Put "${file}" (the graph's weights) beside ${ONNX_FILE}.`);
    if (size < bytes) throw new ExternalDataTruncatedError(file, bytes, size);
    sizes.set(file, size);
  }
  return sizes;
}

async function readExternalData(
  source: FileSource,
  report: OnnxGraphReport,
  tracker: ProgressTracker,
  signal?: AbortSignal,
): Promise<{ path: string; data: Uint8Array }[]> {
  const sizes = await checkExternalData(source, report, signal);
  for (const [file, size] of sizes) tracker.expect(file, size);
  const out: { path: string; data: Uint8Array }[] = [];
  for (const [file, size] of sizes) {
    const data = await readWhole(source, file, tracker, signal);
    if (data.byteLength < size) throw new ExternalDataTruncatedError(file, size, data.byteLength);
    out.push({ path: file, data });
  }
  return out;
}

type OrtModule = typeof Ort;

/** onnxruntime-web, loaded on first use: pages and processes that never open an ONNX model never fetch it. */
let ortModule: Promise<OrtModule> | undefined;
function onnxRuntime(): Promise<OrtModule> {
  ortModule ??= import('onnxruntime-web');
  return ortModule;
}

async function createSession(
  ort: OrtModule,
  model: Uint8Array,
  externalData: { path: string; data: Uint8Array }[],
  providers: OnnxExecutionProvider[],
): Promise<{ session: Ort.InferenceSession; provider: OnnxExecutionProvider }> {
  let last: unknown;
  for (const provider of providers) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [provider],
        // Warnings (unused initializers and the like) would go to the console of every page that loads a model.
        logSeverityLevel: 3,
        ...(externalData.length ? { externalData } : {}),
      });
      return { session, provider };
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

class OnnxRunner {
  constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly report: OnnxGraphReport,
    private readonly config: OnnxModelConfig,
    private readonly logitsName: string,
  ) {}

  /** Inputs for `ids` after `past` cached positions; past key/values empty unless given. */
  private feeds(ids: readonly number[], pastLength: number, past?: Map<string, Ort.Tensor>): Record<string, Ort.Tensor> {
    const T = ids.length;
    const feeds: Record<string, Ort.Tensor> = {};
    for (const input of this.report.inputs) {
      const name = input.name;
      if (name === 'input_ids') feeds[name] = intTensor(this.ort, input.elemType, ids, [1, T]);
      else if (name === 'attention_mask') feeds[name] = intTensor(this.ort, input.elemType, new Array(pastLength + T).fill(1), [1, pastLength + T]);
      else if (name === 'position_ids')
        feeds[name] = intTensor(
          this.ort,
          input.elemType,
          Array.from({ length: T }, (_, i) => pastLength + i),
          [1, T],
        );
      else if (name === 'token_type_ids') feeds[name] = intTensor(this.ort, input.elemType, new Array(T).fill(0), [1, T]);
      else if (isPastInput(name)) {
        const given = past?.get(name);
        if (given) feeds[name] = given;
        else {
          const kv = typeof input.dims[1] === 'number' && input.dims[1] > 0 ? input.dims[1] : this.config.nKvHeads;
          const hd = typeof input.dims[3] === 'number' && input.dims[3] > 0 ? input.dims[3] : this.config.dHead;
          feeds[name] = new this.ort.Tensor('float32', new Float32Array(0), [1, kv, 0, hd]);
        }
      } else {
        throw new OnnxConfigMismatchError(
          `the graph has an input "${name}" that Headscope does not know how to fill (it fills input_ids, attention_mask, position_ids, token_type_ids and past key/values)`,
        );
      }
    }
    return feeds;
  }

  async forward(ids: readonly number[], capture?: CaptureSpec): Promise<OnnxRunResult> {
    const layers = resolveCapture(capture, this.config.nLayers);
    const softmax = this.report.softmax.filter((s) => layers.has(s.layer));
    const fetches = [this.logitsName, ...softmax.map((s) => s.output)];
    const out = await this.session.run(this.feeds(ids, 0), fetches);
    const T = ids.length;
    const logits = this.logits(out[this.logitsName]!, T);
    const maps = new Map<number, CpuCapturedLayer>();
    for (const s of softmax) maps.set(s.layer, { probs: this.probs(out[s.output]!, s.layer, T, T) });
    for (const t of Object.values(out)) t.dispose();
    return { logits, attention: new CpuAttentionStore(maps, this.config.nHeads, T, T, 0) };
  }

  async greedy(ids: readonly number[], maxNewTokens: number, stopIds: readonly number[]): Promise<number[]> {
    const pastNames = this.report.inputs.map((i) => i.name).filter(isPastInput);
    let past: Map<string, Ort.Tensor> | undefined;
    let pastLength = 0;
    let step: readonly number[] = ids;
    const produced: number[] = [];
    for (let n = 0; n < maxNewTokens; n++) {
      const out = await this.session.run(this.feeds(step, pastLength, past), [this.logitsName, ...pastNames.map(presentFor)]);
      const logits = this.logits(out[this.logitsName]!, step.length);
      const V = this.config.vocabSize;
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[(step.length - 1) * V + v]! > logits[(step.length - 1) * V + best]!) best = v;
      for (const t of past?.values() ?? []) t.dispose();
      past = new Map(pastNames.map((p) => [p, out[presentFor(p)]!]));
      out[this.logitsName]!.dispose();
      pastLength += step.length;
      produced.push(best);
      if (stopIds.includes(best)) break;
      step = [best];
    }
    for (const t of past?.values() ?? []) t.dispose();
    return produced;
  }

  private logits(t: Ort.Tensor, T: number): Float32Array {
    const V = this.config.vocabSize;
    if (t.dims.length !== 3 || t.dims[1] !== T || t.dims[2] !== V) {
      throw new OnnxConfigMismatchError(`the graph's logits are [${t.dims.join(', ')}] but config.json implies [1, ${T}, ${V}] (vocab_size ${V})`);
    }
    return toFloat32(t);
  }

  private probs(t: Ort.Tensor, layer: number, T: number, K: number): Float32Array {
    const H = this.config.nHeads;
    const d = t.dims;
    const ok = (d.length === 4 && d[0] === 1 && d[1] === H && d[2] === T && d[3] === K) || (d.length === 3 && d[0] === H && d[1] === T && d[2] === K);
    if (!ok)
      throw new OnnxConfigMismatchError(
        `layer ${layer}'s attention is [${d.join(', ')}] but config.json implies [1, ${H}, ${T}, ${K}] (num_attention_heads ${H})`,
      );
    return toFloat32(t);
  }
}

function intTensor(ort: OrtModule, elemType: number, values: readonly number[], dims: number[]): Ort.Tensor {
  // ONNX int32 is elem type 6; exports use int64 (7) almost always.
  if (elemType === 6) return new ort.Tensor('int32', Int32Array.from(values), dims);
  return new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );
}

function toFloat32(t: Ort.Tensor): Float32Array {
  const data = t.data;
  if (data instanceof Float32Array) return data.slice();
  if (t.type === 'float16' && data instanceof Uint16Array) return Float32Array.from(data, halfBitsToFloat);
  throw new OnnxConfigMismatchError(`an output has element type ${t.type}; Headscope reads float32 or float16`);
}
