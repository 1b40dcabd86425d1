/**
 * Finds each layer's attention probabilities in an ONNX graph and makes them graph outputs.
 *
 * An attention Softmax is one over the last axis whose input comes — through elementwise steps only (scale,
 * mask, cast, soft-cap) — from a MatMul of two computed tensors (Q·Kᵀ, not x·W), and whose output goes —
 * through casts/dropout only — into another MatMul of two computed tensors (·V). Other Softmax nodes (a
 * router, a pooling head) fail one of the tests. ONNX nodes are topologically sorted, and a decoder's layers
 * run in order, so the k-th attention Softmax is layer k.
 */
import { FusedAttentionError, NoAttentionSoftmaxError, OnnxConfigMismatchError, OnnxFormatError } from './errors.js';
import {
  decodeModel,
  encodeGraphOutputs,
  int64,
  ONNX_FLOAT,
  type OnnxGraph,
  type OnnxModelProto,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './proto.js';

/** Ops that compute attention inside one kernel, by domain ('' = the ONNX standard domain). */
const FUSED_ATTENTION: Record<string, readonly string[]> = {
  '': ['Attention'],
  'com.microsoft': [
    'Attention',
    'MultiHeadAttention',
    'GroupQueryAttention',
    'PackedAttention',
    'PackedMultiHeadAttention',
    'DecoderMaskedMultiHeadAttention',
    'DecoderMaskedSelfAttention',
    'SparseAttention',
    'PagedAttention',
  ],
};

/** Steps allowed between Q·Kᵀ and the Softmax (scaling, masking, casts, soft-capping, shape bookkeeping). */
const SCORE_STEPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Max', 'Min', 'Clip', 'Tanh', 'Identity', 'Reshape', 'Neg', 'Expand']);
/** Steps allowed between the Softmax and ·V. */
const PROB_STEPS = new Set(['Cast', 'Identity', 'Dropout', 'Where', 'Reshape', 'Expand']);
const MAX_STEPS = 10;

export interface AttentionSoftmax {
  layer: number;
  /** The Softmax node's name (or "#<index>" when unnamed). */
  node: string;
  /** Its output tensor: the name to fetch. */
  output: string;
  /** ONNX element type of the probabilities (1 float, 10 float16, 16 bfloat16). */
  elemType: number;
}

export interface ExternalTensor {
  tensor: string;
  location: string;
  offset: number;
  length: number;
}

export interface OnnxGraphReport {
  softmax: AttentionSoftmax[];
  /** Softmax nodes that are not attention. */
  otherSoftmax: number;
  inputs: { name: string; elemType: number; dims: (number | string)[] }[];
  outputs: string[];
  external: ExternalTensor[];
  parameters: number;
  opsets: Record<string, number>;
}

export interface GraphExpectations {
  nLayers: number;
  nHeads: number;
}

export function parseOnnx(bytes: Uint8Array, file = 'model.onnx'): OnnxModelProto {
  let model: OnnxModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new OnnxFormatError(file, `the protobuf does not decode: ${(e as Error).message}`);
  }
  if (!model.graph?.node?.length) throw new OnnxFormatError(file, 'it has no graph nodes');
  if (!model.opsetImport?.length) throw new OnnxFormatError(file, 'it imports no operator set');
  return model;
}

/** Reads the graph: fused attention refused, attention Softmax nodes found and checked against config.json. */
export function analyseGraph(model: OnnxModelProto, expect: GraphExpectations, file = 'model.onnx'): OnnxGraphReport {
  const g = model.graph as OnnxGraph;
  refuseFused(g, file);
  const opsets: Record<string, number> = {};
  for (const o of model.opsetImport ?? []) opsets[o.domain ?? ''] = int64(o.version);
  const softmaxDefaultAxis = (opsets[''] ?? 13) >= 13 ? -1 : 1;
  const consts = new Set<string>((g.initializer ?? []).map((t) => t.name));
  for (const n of g.node) if (n.opType === 'Constant') for (const o of n.output) consts.add(o);
  const producer = new Map<string, OnnxNode>();
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of g.node) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const isActivationMatMul = (n: OnnxNode | undefined) =>
    !!n && (n.opType === 'MatMul' || n.opType === 'Einsum') && (n.domain ?? '') === '' && n.input.filter((i) => i && !consts.has(i)).length >= 2;

  const softmax: AttentionSoftmax[] = [];
  let otherSoftmax = 0;
  g.node.forEach((n, index) => {
    if (n.opType !== 'Softmax' || (n.domain ?? '') !== '') return;
    const axisAttr = n.attribute?.find((a) => a.name === 'axis');
    const axis = axisAttr ? int64(axisAttr.i) : softmaxDefaultAxis;
    const lastAxis = axis === -1 || axis === 3;
    if (lastAxis && fedByScores(n.input[0] ?? '', producer, consts, isActivationMatMul) && feedsValues(n.output[0] ?? '', consumers, isActivationMatMul)) {
      softmax.push({ layer: softmax.length, node: n.name || `#${index}`, output: n.output[0]!, elemType: elemTypeOf(n, producer, g) });
    } else {
      otherSoftmax++;
    }
  });
  if (softmax.length === 0) throw new NoAttentionSoftmaxError(file, otherSoftmax);
  if (softmax.length !== expect.nLayers) {
    throw new OnnxConfigMismatchError(
      `the graph has ${softmax.length} attention Softmax node${softmax.length === 1 ? '' : 's'} (one per layer) but config.json says ${expect.nLayers} layers`,
    );
  }
  for (const s of softmax) {
    const heads = staticDim(g, s.output, 1);
    if (heads !== undefined && heads !== expect.nHeads) {
      throw new OnnxConfigMismatchError(`layer ${s.layer}'s attention (${s.node}) has ${heads} heads but config.json says ${expect.nHeads}`);
    }
  }
  return {
    softmax,
    otherSoftmax,
    inputs: (g.input ?? []).filter((i) => !consts.has(i.name)).map((i) => ({ name: i.name, elemType: i.type?.tensorType?.elemType ?? 0, dims: dimsOf(i) })),
    outputs: (g.output ?? []).map((o) => o.name),
    external: externalTensors(g),
    parameters: (g.initializer ?? []).reduce((s, t) => s + elements(t), 0),
    opsets,
  };
}

/**
 * The model bytes with the attention probabilities added as graph outputs. Protobuf merges a repeated
 * occurrence of a message field into the first, so appending a GraphProto that holds only outputs (as
 * ModelProto field 7) extends the graph's outputs without re-encoding the model (which may be large).
 */
export function withAttentionOutputs(bytes: Uint8Array, report: OnnxGraphReport): Uint8Array {
  const existing = new Set(report.outputs);
  const outputs: OnnxValueInfo[] = report.softmax
    .filter((s) => !existing.has(s.output))
    .map((s) => ({ name: s.output, type: { tensorType: { elemType: s.elemType } } }));
  if (!outputs.length) return bytes;
  const graph = encodeGraphOutputs(outputs);
  const head = [0x3a, ...varint(graph.length)]; // field 7, wire type 2 (length-delimited)
  const out = new Uint8Array(bytes.length + head.length + graph.length);
  out.set(bytes, 0);
  out.set(head, bytes.length);
  out.set(graph, bytes.length + head.length);
  return out;
}

function refuseFused(g: OnnxGraph, file: string): void {
  const counts = new Map<string, number>();
  for (const n of g.node) {
    const domain = n.domain === 'ai.onnx' ? '' : (n.domain ?? '');
    if (FUSED_ATTENTION[domain]?.includes(n.opType)) {
      const name = domain ? `${domain}.${n.opType}` : `ONNX ${n.opType}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  const first = [...counts][0];
  if (first) throw new FusedAttentionError(file, first[0], first[1]);
}

function fedByScores(start: string, producer: Map<string, OnnxNode>, consts: Set<string>, isQK: (n: OnnxNode | undefined) => boolean): boolean {
  // Breadth-first over the non-constant inputs of elementwise steps (a mask Add has two computed inputs).
  let frontier = [start];
  for (let step = 0; step < MAX_STEPS && frontier.length; step++) {
    const next: string[] = [];
    for (const t of frontier) {
      const p = producer.get(t);
      if (!p) continue;
      if (isQK(p)) return true;
      if (SCORE_STEPS.has(p.opType)) next.push(...p.input.filter((i) => i && !consts.has(i)));
    }
    frontier = next;
  }
  return false;
}

function feedsValues(start: string, consumers: Map<string, OnnxNode[]>, isPV: (n: OnnxNode | undefined) => boolean): boolean {
  let frontier = [start];
  for (let step = 0; step < MAX_STEPS && frontier.length; step++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const c of consumers.get(t) ?? []) {
        if (isPV(c)) return true;
        if (PROB_STEPS.has(c.opType)) next.push(c.output[0] ?? '');
      }
    }
    frontier = next;
  }
  return false;
}

/** The Softmax output's element type: declared in value_info, else its input's Cast target, else float. */
function elemTypeOf(n: OnnxNode, producer: Map<string, OnnxNode>, g: OnnxGraph): number {
  const declared = (g.valueInfo ?? []).find((v) => v.name === n.output[0])?.type?.tensorType?.elemType;
  if (declared) return declared;
  const p = producer.get(n.input[0] ?? '');
  if (p?.opType === 'Cast') {
    const to = p.attribute?.find((a) => a.name === 'to');
    if (to) return int64(to.i);
  }
  return ONNX_FLOAT;
}

function dimsOf(v: OnnxValueInfo): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : int64(d.dimValue)));
}

function staticDim(g: OnnxGraph, name: string, axis: number): number | undefined {
  const v = [...(g.valueInfo ?? []), ...(g.output ?? [])].find((x) => x.name === name);
  const d = v ? dimsOf(v)[axis] : undefined;
  return typeof d === 'number' && d > 0 ? d : undefined;
}

const ELEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

function elements(t: OnnxTensor): number {
  return (t.dims ?? []).reduce<number>((p, d) => p * int64(d), 1);
}

function externalTensors(g: OnnxGraph): ExternalTensor[] {
  const out: ExternalTensor[] = [];
  for (const t of g.initializer ?? []) {
    if (t.dataLocation !== 1) continue;
    const kv = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
    const offset = Number(kv.get('offset') ?? 0);
    const length = kv.has('length') ? Number(kv.get('length')) : elements(t) * (ELEM_BYTES[t.dataType ?? 1] ?? 4);
    out.push({ tensor: t.name, location: kv.get('location') ?? '', offset, length });
  }
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
