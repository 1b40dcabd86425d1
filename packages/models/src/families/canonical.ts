/**
 * Canonical tensor names and shapes (orientation: see types.ts), and the template form family files use
 * to describe their checkpoint layout as data.
 */
import type { ModelConfig, TensorMapping, TensorTransform } from './types.js';

/** Symbolic dimensions, resolved against a ModelConfig. q = n_heads·d_head, kv = n_kv_heads·d_head, qkv = q + 2·kv (fused). */
export type Dim = 'd' | 'vocab' | 'ctx' | 'ff' | 'q' | 'kv' | 'qkv' | 'dh';

export function dimSize(dim: Dim | number, c: ModelConfig): number {
  if (typeof dim === 'number') return dim;
  switch (dim) {
    case 'd':
      return c.dModel;
    case 'vocab':
      return c.vocabSize;
    case 'ctx':
      return c.nCtx;
    case 'ff':
      return c.dFF;
    case 'q':
      return c.nHeads * c.dHead;
    case 'kv':
      return c.nKvHeads * c.dHead;
    case 'qkv':
      return (c.nHeads + 2 * c.nKvHeads) * c.dHead;
    case 'dh':
      return c.dHead;
  }
}

/** Canonical shapes by name pattern ("{l}" = layer index). */
export const CANONICAL_SHAPES: Readonly<Record<string, readonly Dim[]>> = {
  'embed.W_E': ['vocab', 'd'],
  'pos_embed.W_pos': ['ctx', 'd'],
  'blocks.{l}.ln1.w': ['d'],
  'blocks.{l}.ln1.b': ['d'],
  'blocks.{l}.attn.W_Q': ['d', 'q'],
  'blocks.{l}.attn.W_K': ['d', 'kv'],
  'blocks.{l}.attn.W_V': ['d', 'kv'],
  'blocks.{l}.attn.W_O': ['q', 'd'],
  'blocks.{l}.attn.b_Q': ['q'],
  'blocks.{l}.attn.b_K': ['kv'],
  'blocks.{l}.attn.b_V': ['kv'],
  'blocks.{l}.attn.b_O': ['d'],
  'blocks.{l}.ln2.w': ['d'],
  'blocks.{l}.ln2.b': ['d'],
  'blocks.{l}.mlp.W_in': ['d', 'ff'],
  'blocks.{l}.mlp.W_gate': ['d', 'ff'],
  'blocks.{l}.mlp.W_out': ['ff', 'd'],
  'blocks.{l}.mlp.b_in': ['ff'],
  'blocks.{l}.mlp.b_gate': ['ff'],
  'blocks.{l}.mlp.b_out': ['d'],
  'ln_final.w': ['d'],
  'ln_final.b': ['d'],
  'unembed.W_U': ['d', 'vocab'],
  'unembed.b_U': ['vocab'],
  'blocks.{l}.ln1_post.w': ['d'],
  'blocks.{l}.ln2_post.w': ['d'],
};

/** q/k norms are per head ([d_head]) or over the whole projection ([n_heads·d_head]), as the config says. */
function qkNormShape(name: string, c: ModelConfig): number[] | undefined {
  const m = /^blocks\.\d+\.attn\.([qk])_norm\.w$/.exec(name);
  if (!m || !c.qkNorm) return undefined;
  if (c.qkNorm === 'head') return [c.dHead];
  return [dimSize(m[1] === 'q' ? 'q' : 'kv', c)];
}

export function canonicalPattern(name: string): string {
  return name.replace(/^blocks\.\d+\./, 'blocks.{l}.');
}

export function canonicalShape(name: string, c: ModelConfig): number[] | undefined {
  return qkNormShape(name, c) ?? CANONICAL_SHAPES[canonicalPattern(name)]?.map((d) => dimSize(d, c));
}

/** The canonical tensors a config implies, independent of any family's checkpoint naming. */
export function requiredCanonicalNames(c: ModelConfig): string[] {
  const names = ['embed.W_E'];
  if (c.positional === 'learned') names.push('pos_embed.W_pos');
  for (let l = 0; l < c.nLayers; l++) {
    const p = `blocks.${l}.`;
    const norms = c.sublayerNorms ?? 'pre';
    if (norms !== 'post') names.push(`${p}ln1.w`, `${p}ln2.w`);
    if (norms !== 'pre') names.push(`${p}ln1_post.w`, `${p}ln2_post.w`);
    if (c.qkNorm) names.push(`${p}attn.q_norm.w`, `${p}attn.k_norm.w`);
    names.push(`${p}attn.W_Q`, `${p}attn.W_K`, `${p}attn.W_V`, `${p}attn.W_O`, `${p}mlp.W_in`, `${p}mlp.W_out`);
    if (c.normBias) names.push(`${p}ln1.b`, `${p}ln2.b`);
    if (c.qkvBias) names.push(`${p}attn.b_Q`, `${p}attn.b_K`, `${p}attn.b_V`);
    if (c.attnBias) names.push(`${p}attn.b_O`);
    if (c.mlp.gated) names.push(`${p}mlp.W_gate`);
    if (c.mlpBias) names.push(`${p}mlp.b_in`, `${p}mlp.b_out`, ...(c.mlp.gated ? [`${p}mlp.b_gate`] : []));
  }
  names.push('ln_final.w');
  if (c.normBias) names.push('ln_final.b');
  names.push('unembed.W_U');
  if (c.unembedBias) names.push('unembed.b_U');
  return names;
}

/** One row of a family's tensor table. Strings may contain "{l}" (expanded per layer). */
export interface TensorTemplate {
  canonical: string;
  source: string | readonly string[];
  sourceShape: readonly (Dim | number)[];
  transform?: TensorTransform | ((c: ModelConfig) => TensorTransform);
  /** Present only when this holds (bias flags, tied embeddings…). */
  when?: (c: ModelConfig) => boolean;
}

/** Expands a family's table for one config; source names get every prefix variant in `prefixes` order. */
export function expandTemplates(templates: readonly TensorTemplate[], c: ModelConfig): TensorMapping[] {
  const out: TensorMapping[] = [];
  for (const t of templates) {
    if (t.when && !t.when(c)) continue;
    const transform = typeof t.transform === 'function' ? t.transform(c) : (t.transform ?? { kind: 'copy' });
    const sourceShape = t.sourceShape.map((d) => dimSize(d, c));
    const layers = t.canonical.includes('{l}') ? c.nLayers : 1;
    for (let l = 0; l < layers; l++) {
      const sub = (s: string) => s.replaceAll('{l}', String(l));
      const sources = typeof t.source === 'string' ? [t.source] : t.source;
      out.push({ canonical: sub(t.canonical), source: sources.map(sub), sourceShape, transform, shape: transformShape(sourceShape, transform) });
    }
  }
  return out;
}

/** Every name with each prefix in front ("transformer.h.0…", "h.0…"): checkpoints differ in wrapping. */
export function withPrefixes(prefixes: readonly string[], name: string): string[] {
  return prefixes.map((p) => p + name);
}

export function transformShape(shape: readonly number[], t: TensorTransform): number[] {
  const tr = (s: number[]) => (s.length === 2 ? [s[1]!, s[0]!] : s);
  switch (t.kind) {
    case 'copy':
      return [...shape];
    case 'transpose':
      return tr([...shape]);
    case 'split': {
      const s = [...shape];
      const part = t.layout === 'blocked' ? t.sizes[t.index]! : t.nHeads * t.headDim;
      s[t.axis] = part;
      return t.transpose ? tr(s) : s;
    }
  }
}
