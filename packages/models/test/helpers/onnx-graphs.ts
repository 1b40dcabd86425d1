/**
 * Tiny ONNX decoders built in the test (static T, seeded weights) and a plain TypeScript forward pass of the
 * same computation, for the graph-rewrite tests: attention Softmax per layer, optionally a second
 * (router) Softmax per layer that is not attention, attention computed without a Softmax node, a fused
 * com.microsoft Attention op, and weights in an external-data file.
 */
import { ATTR, encodeModel, ONNX_EXTERNAL, ONNX_FLOAT, ONNX_INT64, type OnnxModelProto, type OnnxNode, type OnnxTensor } from '../../src/index.js';

export interface TinySpec {
  layers: number;
  heads: number;
  dHead: number;
  vocab: number;
  T: number;
  /** A second Softmax per layer (over x·W_router, scaling the residual): not attention. */
  router?: boolean;
  /** Attention probabilities as Exp / ReduceSum / Div instead of a Softmax node. */
  decomposed?: boolean;
  /** One com.microsoft Attention node per layer instead of the unfused subgraph. */
  fused?: boolean;
  /** Initializers (≥ 16 values) in this external-data file. */
  externalFile?: string;
  seed?: number;
}

export interface TinyModel {
  spec: TinySpec;
  onnx: Uint8Array;
  /** The external-data file's bytes (when spec.externalFile). */
  external?: Uint8Array;
  weights: Map<string, { dims: number[]; data: Float32Array }>;
  /** The config.json an export of it would carry. */
  config: Record<string, unknown>;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32 - 0.5) * 2;
  };
}

const node = (opType: string, input: string[], output: string[], attrs: Record<string, number | number[]> = {}, domain = ''): OnnxNode => ({
  opType,
  input,
  output,
  domain,
  name: `${output[0]}_node`,
  attribute: Object.entries(attrs).map(([name, v]) => (Array.isArray(v) ? { name, type: ATTR.INTS, ints: v } : { name, type: ATTR.INT, i: v })),
});

export function buildTinyModel(spec: TinySpec): TinyModel {
  const { layers: L, heads: H, dHead: dh, vocab: V, T } = spec;
  const D = H * dh;
  const rand = rng(spec.seed ?? 7);
  const weights = new Map<string, { dims: number[]; data: Float32Array }>();
  const w = (name: string, dims: number[], scale = 0.6) => {
    const n = dims.reduce((a, b) => a * b, 1);
    weights.set(name, { dims, data: Float32Array.from({ length: n }, () => rand() * scale) });
    return name;
  };
  const inits: OnnxTensor[] = [];
  const i64 = (name: string, values: number[]) => {
    inits.push({ name, dims: [values.length], dataType: ONNX_INT64, int64Data: values });
    return name;
  };
  const nodes: OnnxNode[] = [node('Gather', [w('E', [V, D], 1), 'input_ids'], ['x0'])];
  const maskData = new Float32Array(T * T).map((_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0));
  weights.set('mask', { dims: [T, T], data: maskData });
  weights.set('scale', { dims: [], data: Float32Array.of(1 / Math.sqrt(dh)) });
  i64('shape4', [1, T, H, dh]);
  i64('shape3', [1, T, D]);
  if (spec.decomposed) i64('axes_last', [-1]);
  let x = 'x0';
  for (let l = 0; l < L; l++) {
    const p = (s: string) => `l${l}_${s}`;
    if (spec.fused) {
      nodes.push(
        node('Attention', [x, w(p('Wqkv'), [D, 3 * D]), w(p('bqkv'), [3 * D], 0.1)], [p('att')], { num_heads: H, unidirectional: 1 }, 'com.microsoft'),
      );
    } else {
      nodes.push(
        node('MatMul', [x, w(p('Wq'), [D, D])], [p('q')]),
        node('MatMul', [x, w(p('Wk'), [D, D])], [p('k')]),
        node('MatMul', [x, w(p('Wv'), [D, D])], [p('v')]),
        node('Reshape', [p('q'), 'shape4'], [p('q4')]),
        node('Reshape', [p('k'), 'shape4'], [p('k4')]),
        node('Reshape', [p('v'), 'shape4'], [p('v4')]),
        node('Transpose', [p('q4')], [p('qh')], { perm: [0, 2, 1, 3] }),
        node('Transpose', [p('k4')], [p('kT')], { perm: [0, 2, 3, 1] }),
        node('Transpose', [p('v4')], [p('vh')], { perm: [0, 2, 1, 3] }),
        node('MatMul', [p('qh'), p('kT')], [p('scores')]),
        node('Mul', [p('scores'), 'scale'], [p('scaled')]),
        node('Add', [p('scaled'), 'mask'], [p('masked')]),
      );
      if (spec.decomposed) {
        nodes.push(
          node('Exp', [p('masked')], [p('e')]),
          node('ReduceSum', [p('e'), 'axes_last'], [p('esum')], { keepdims: 1 }),
          node('Div', [p('e'), p('esum')], [p('probs')]),
        );
      } else {
        nodes.push(node('Softmax', [p('masked')], [p('probs')], { axis: -1 }));
      }
      nodes.push(
        node('MatMul', [p('probs'), p('vh')], [p('o')]),
        node('Transpose', [p('o')], [p('oT')], { perm: [0, 2, 1, 3] }),
        node('Reshape', [p('oT'), 'shape3'], [p('att')]),
      );
    }
    nodes.push(node('MatMul', [p('att'), w(p('Wo'), [D, D])], [p('ao')]), node('Add', [x, p('ao')], [p('x1')]));
    x = p('x1');
    if (spec.router) {
      nodes.push(
        node('MatMul', [x, w(p('Wr'), [D, D])], [p('r')]),
        node('Softmax', [p('r')], [p('gate')], { axis: -1 }),
        node('Mul', [p('gate'), x], [p('gx')]),
        node('Add', [x, p('gx')], [p('x2')]),
      );
      x = p('x2');
    }
  }
  nodes.push(node('MatMul', [x, w('Wu', [D, V])], ['logits']));

  // Float initializers: inline raw data, or consecutive ranges of the external-data file.
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of weights) {
    const bytes = new Uint8Array(t.data.buffer.slice(0));
    if (spec.externalFile && t.data.length >= 16) {
      inits.push({
        name,
        dims: t.dims,
        dataType: ONNX_FLOAT,
        dataLocation: ONNX_EXTERNAL,
        externalData: [
          { key: 'location', value: spec.externalFile },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.length) },
        ],
      });
      chunks.push(bytes);
      offset += bytes.length;
    } else {
      inits.push({ name, dims: t.dims, dataType: ONNX_FLOAT, rawData: bytes });
    }
  }
  const model: OnnxModelProto = {
    irVersion: 8,
    producerName: 'headscope-test',
    opsetImport: [{ domain: '', version: 17 }, ...(spec.fused ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: {
      name: 'tiny',
      node: nodes,
      initializer: inits,
      input: [{ name: 'input_ids', type: { tensorType: { elemType: ONNX_INT64, shape: { dim: [{ dimValue: 1 }, { dimValue: T }] } } } }],
      output: [{ name: 'logits', type: { tensorType: { elemType: ONNX_FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: T }, { dimValue: V }] } } } }],
    },
  };
  const external = spec.externalFile ? concat(chunks) : undefined;
  const config = { model_type: 'tiny_onnx_test', vocab_size: V, num_hidden_layers: L, num_attention_heads: H, hidden_size: D, max_position_embeddings: T };
  return { spec, onnx: encodeModel(model), ...(external ? { external } : {}), weights, config };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** x [T, K] · W [K, N] */
function matmul(x: Float32Array, W: Float32Array, T: number, K: number, N: number): Float32Array {
  const y = new Float32Array(T * N);
  for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) y[t * N + n]! += x[t * K + k]! * W[k * N + n]!;
  return y;
}

function softmaxRows(a: Float32Array, n: number): void {
  for (let r = 0; r < a.length / n; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < n; j++) m = Math.max(m, a[r * n + j]!);
    let s = 0;
    for (let j = 0; j < n; j++) s += a[r * n + j] = Math.exp(a[r * n + j]! - m);
    for (let j = 0; j < n; j++) a[r * n + j]! /= s;
  }
}

/** The same forward pass in plain TypeScript (float64 accumulation): logits [T, V] and attention [H, T, T] per layer. */
export function tinyReference(m: TinyModel, ids: readonly number[]): { logits: Float32Array; attention: Float32Array[] } {
  const { layers: L, heads: H, dHead: dh, vocab: V, T } = m.spec;
  const D = H * dh;
  const W = (n: string) => m.weights.get(n)!.data;
  let x = new Float32Array(T * D);
  for (const [t, id] of ids.entries()) x.set(W('E').subarray(id * D, (id + 1) * D), t * D);
  const attention: Float32Array[] = [];
  for (let l = 0; l < L; l++) {
    const p = (s: string) => `l${l}_${s}`;
    const q = matmul(x, W(p('Wq')), T, D, D);
    const k = matmul(x, W(p('Wk')), T, D, D);
    const v = matmul(x, W(p('Wv')), T, D, D);
    const probs = new Float32Array(H * T * T);
    const att = new Float32Array(T * D);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += q[i * D + h * dh + c]! * k[j * D + h * dh + c]!;
          probs[(h * T + i) * T + j] = s / Math.sqrt(dh) + W('mask')[i * T + j]!;
        }
      }
    }
    softmaxRows(probs, T);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) for (let c = 0; c < dh; c++) att[i * D + h * dh + c]! += probs[(h * T + i) * T + j]! * v[j * D + h * dh + c]!;
    attention.push(probs);
    const ao = matmul(att, W(p('Wo')), T, D, D);
    x = x.map((xv, i) => xv + ao[i]!);
    if (m.spec.router) {
      const gate = matmul(x, W(p('Wr')), T, D, D);
      softmaxRows(gate, D);
      x = x.map((xv, i) => xv + gate[i]! * xv);
    }
  }
  return { logits: matmul(x, W('Wu'), T, D, V), attention };
}
