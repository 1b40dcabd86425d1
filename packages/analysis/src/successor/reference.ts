/**
 * A plain reference for the restricted OV circuit (methods.md §5), written from the formula with loops over
 * host arrays read through WeightAccess, independent of the GPU kernels: E_t = MLP0(LN2⁰(W_E[t])) (or a
 * variant), then per head (E_t·W_V^h + b_V)·W_O^h·W_U[:, j] (+ b_O·W_U[:, j] + b_U[j]). For tests on small
 * models: it reads whole matrices back.
 */
import type { EngineConfig, MlpWeights, NormWeights, OvCircuitInput, OvCircuitOptions, WeightAccess } from '@headscope/models';

export interface OvReference {
  /** [L, H, R] argmax within the row's group, rows laid out group after group (as OvCircuit). */
  argmax: Uint32Array;
  /** Per (layer, head), each group's n_g × n_g logits, group after group. */
  logits: Float32Array[][];
}

export function normRow(x: Float64Array, n: NormWeights, c: EngineConfig): Float64Array {
  const d = x.length;
  const out = new Float64Array(d);
  let mean = 0;
  if (c.norm === 'layernorm') for (const v of x) mean += v / d;
  let sq = 0;
  for (const v of x) sq += (v - mean) ** 2 / d;
  const inv = 1 / Math.sqrt(sq + c.normEps);
  const offset = c.norm === 'rmsnorm' ? (c.normWeightOffset ?? 0) : 0;
  for (let i = 0; i < d; i++) out[i] = (x[i]! - mean) * inv * (n.w ? n.w[i]! + offset : 1) + (n.b?.[i] ?? 0);
  return out;
}

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}

function act(kind: EngineConfig['act'], x: number): number {
  switch (kind) {
    case 'relu':
      return Math.max(0, x);
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'gelu_erf':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  }
}

/** x·W (+ b) for W [rows = x.length, cols]. */
export function vecMat(x: ArrayLike<number>, W: { rows: number; cols: number; data: Float32Array }, b?: Float32Array): Float64Array {
  const out = new Float64Array(W.cols);
  for (let i = 0; i < W.rows; i++) {
    const xi = x[i]!;
    if (xi !== 0) for (let j = 0; j < W.cols; j++) out[j]! += xi * W.data[i * W.cols + j]!;
  }
  if (b) for (let j = 0; j < W.cols; j++) out[j]! += b[j]!;
  return out;
}

export function mlp(x: Float64Array, m: MlpWeights, c: EngineConfig): Float64Array {
  const up = vecMat(x, m.W_in, m.b_in);
  if (c.gatedMlp && m.W_gate) {
    const gate = vecMat(x, m.W_gate, m.b_gate);
    for (let i = 0; i < up.length; i++) up[i] = act(c.act, gate[i]!) * up[i]!;
  } else {
    for (let i = 0; i < up.length; i++) up[i] = act(c.act, up[i]!);
  }
  return vecMat(up, m.W_out, m.b_out);
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

export async function ovCircuitReference(
  model: { config: EngineConfig; weights: WeightAccess },
  input: OvCircuitInput,
  options: OvCircuitOptions = {},
): Promise<OvReference> {
  const { config: c, weights } = model;
  const variant = options.embedding ?? 'mlp0';
  const preNorms = (c.sublayerNorms ?? 'pre') !== 'post';
  const [ln2, mlp0, ln2Post] = await Promise.all([weights.norm(0, 'ln2'), weights.mlp(0), weights.norm(0, 'ln2Post').catch(() => undefined)]);
  const E: Float64Array[] = [];
  for (const t of input.tokens) {
    const raw = Float64Array.from(await weights.embeddingRow(t), (v) => v * (c.embedScale ?? 1));
    if (variant === 'embedding') {
      E.push(raw);
      continue;
    }
    let m = mlp(preNorms ? normRow(raw, ln2, c) : raw, mlp0, c);
    if (ln2Post) m = normRow(m, ln2Post, c);
    if (variant === 'mlp0+embedding') for (let i = 0; i < m.length; i++) m[i] = m[i]! + raw[i]!;
    E.push(m);
  }
  const W_U = await weights.unembedding();
  const bU = options.biases ? await weights.unembeddingBias() : undefined;
  const column = (j: number): Float64Array => Float64Array.from({ length: c.dModel }, (_, i) => W_U.data[i * W_U.cols + input.tokens[j]!]!);
  const U = input.tokens.map((_, j) => column(j));

  const R = input.groups.reduce((a, g) => a + g.length, 0);
  const argmax = new Uint32Array(c.nLayers * c.nHeads * R);
  const logits: Float32Array[][] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const ln1 = await weights.norm(l, 'ln1');
    const bO = options.biases ? await weights.attentionOutputBias(l) : undefined;
    const X = options.headNorm && preNorms ? E.map((e) => normRow(e, ln1, c)) : E;
    const perHead: Float32Array[] = [];
    for (let h = 0; h < c.nHeads; h++) {
      const hw = await weights.head(l, h);
      const out = X.map((x) => vecMat(vecMat(x, hw.W_V, options.biases ? hw.b_V : undefined), hw.W_O));
      const blocks: number[] = [];
      let row = (l * c.nHeads + h) * R;
      for (const g of input.groups) {
        for (const i of g) {
          let best = Number.NEGATIVE_INFINITY;
          g.forEach((j, col) => {
            let s = dot(out[i]!, U[j]!);
            if (bO) s += dot(bO, U[j]!);
            if (bU) s += bU[input.tokens[j]!]!;
            blocks.push(s);
            if (col === 0 || s > best) {
              best = s;
              argmax[row] = col;
            }
          });
          row++;
        }
      }
      perHead.push(Float32Array.from(blocks));
    }
    logits.push(perHead);
  }
  return { argmax, logits };
}
