import { ACT_PARAMS_PER_HEAD } from '@headscope/wgpu-kernels';

/**
 * The three attention hook points of the design, as plain data. They are compiled per layer into the
 * dense buffers the attention kernel reads: a logit bias [H, Tk] (before softmax), a column scale
 * [H, Tk] (post-softmax ACT rewrite) and a head scale [H] (output scaling / ablation).
 */
export type Intervention =
  /** Adds `value` to the pre-softmax score of key position `key` (ZeroTuning: ln γ on key 0; −Infinity masks). `key: 'all'` applies to every key. */
  | { kind: 'logitBias'; layer: number; head: number | 'all'; key: number | 'all'; value: number }
  /** ACT: scales the listed key columns by `beta` and gives the removed mass to the other keys of each row. */
  | { kind: 'keyScale'; layer: number; head: number | 'all'; keys: readonly number[]; beta: number }
  /** Multiplies the head's output by `scale` (0 ablates). */
  | { kind: 'headScale'; layer: number; head: number | 'all'; scale: number }
  /** ACT (methods.md §6) on this input: the keys calibrated are found from the head's own probabilities in the pass. */
  | ({ kind: 'act'; layer: number; head: number | 'all' } & ActSettings)
  /**
   * Masks the head the way methods.md §4 does: its query is zeroed, so every pre-softmax score is 0 (plus
   * any logit bias) and it attends uniformly over the keys it can see.
   */
  | { kind: 'uniform'; layer: number; head: number | 'all' };

/** ACT settings (methods.md §6); every field has the authors' default. */
export interface ActSettings {
  /** Threshold on column importance: absolute τ (default 0.1), or α with `tauMode: 'relative'` (threshold α/N, N keys). */
  tau?: number;
  tauMode?: 'absolute' | 'relative';
  /** Scale of the calibrated columns (default 0.4). */
  beta?: number;
  /** Leave the first key of Sraw alone (the initial sink); default true. */
  exemptFirst?: boolean;
  /** Never calibrate the last k keys (seen by few queries; the authors' code can flag the final token); default 0. */
  ignoreLastKeys?: number;
}

export const ACT_DEFAULTS = { tau: 0.1, tauMode: 'absolute', beta: 0.4, exemptFirst: true, ignoreLastKeys: 0 } as const satisfies Required<ActSettings>;

/** ACT on the given heads (methods.md §6). */
export function act(heads: ReadonlyArray<{ layer: number; head: number | 'all' }>, settings: ActSettings = {}): Intervention[] {
  return heads.map(({ layer, head }) => ({ kind: 'act', layer, head, ...settings }));
}

/** Masks of the retrieval lab's causal check: each head attends uniformly. */
export function uniformMasks(heads: ReadonlyArray<{ layer: number; head: number }>): Intervention[] {
  return heads.map(({ layer, head }) => ({ kind: 'uniform', layer, head }));
}

/** ZeroTuning (methods.md §7): scale the initial token's attention by γ, via the logit-bias hook. */
export function zeroTuning(heads: ReadonlyArray<{ layer: number; head: number | 'all' }>, gamma: number, initialKey = 0): Intervention[] {
  if (!(gamma > 0)) throw new RangeError(`ZeroTuning needs γ > 0 (got ${gamma})`);
  return heads.map(({ layer, head }) => ({ kind: 'logitBias', layer, head, key: initialKey, value: Math.log(gamma) }));
}

export interface LayerHooks {
  logitBias?: Float32Array;
  colScale?: Float32Array;
  headScale?: Float32Array;
  /** [H, 4] per head: mode (0 off, 1 first of Sraw exempt, 2 none exempt), τ (absolute), β, last keys ignored. */
  act?: Float32Array;
  /** [H] factor on each head's query (0 = uniform attention). */
  queryScale?: Float32Array;
}

/** Below this a bias is a mask: the kernel treats scores ≤ −1e30 as −∞ (WGSL infinities are unreliable). */
export const MASK_BIAS = -1e30;

/**
 * Dense per-layer hook arrays for keys 0..kvLength−1; layers without interventions get nothing. ACT acts
 * on prefill passes only (`prefill: false` for KV-cache steps drops it), as in the authors' method.
 */
export function compileInterventions(
  interventions: readonly Intervention[],
  nLayers: number,
  nHeads: number,
  kvLength: number,
  { prefill = true }: { prefill?: boolean } = {},
): Map<number, LayerHooks> {
  const out = new Map<number, LayerHooks>();
  const headsOf = (h: number | 'all') => (h === 'all' ? Array.from({ length: nHeads }, (_, i) => i) : [h]);
  for (const iv of interventions) {
    if (!Number.isInteger(iv.layer) || iv.layer < 0 || iv.layer >= nLayers)
      throw new RangeError(`intervention on layer ${iv.layer}: the model has layers 0..${nLayers - 1}`);
    for (const h of headsOf(iv.head)) {
      if (!Number.isInteger(h) || h < 0 || h >= nHeads) throw new RangeError(`intervention on head ${h}: the model has heads 0..${nHeads - 1}`);
    }
    if (iv.kind === 'act') checkAct(iv);
    if (iv.kind === 'act' && !prefill) continue;
    let hooks = out.get(iv.layer);
    if (!hooks) {
      hooks = {};
      out.set(iv.layer, hooks);
    }
    if (iv.kind === 'logitBias') {
      hooks.logitBias ??= new Float32Array(nHeads * kvLength);
      const v = iv.value === Number.NEGATIVE_INFINITY || iv.value < MASK_BIAS ? MASK_BIAS : iv.value;
      for (const h of headsOf(iv.head)) {
        const keys = iv.key === 'all' ? Array.from({ length: kvLength }, (_, j) => j) : iv.key < kvLength ? [iv.key] : [];
        for (const j of keys) {
          const idx = h * kvLength + j;
          hooks.logitBias[idx] = hooks.logitBias[idx]! <= MASK_BIAS || v <= MASK_BIAS ? MASK_BIAS : hooks.logitBias[idx]! + v;
        }
      }
    } else if (iv.kind === 'keyScale') {
      if (!(iv.beta >= 0)) throw new RangeError(`keyScale β must be ≥ 0 (got ${iv.beta})`);
      hooks.colScale ??= new Float32Array(nHeads * kvLength).fill(1);
      for (const h of headsOf(iv.head)) for (const j of iv.keys) if (j >= 0 && j < kvLength) hooks.colScale[h * kvLength + j] = iv.beta;
    } else if (iv.kind === 'act') {
      hooks.act ??= new Float32Array(nHeads * ACT_PARAMS_PER_HEAD);
      const s = { ...ACT_DEFAULTS, ...iv };
      const tau = s.tauMode === 'relative' ? s.tau / kvLength : s.tau;
      for (const h of headsOf(iv.head)) hooks.act.set([s.exemptFirst ? 1 : 2, tau, s.beta, s.ignoreLastKeys], h * ACT_PARAMS_PER_HEAD);
    } else if (iv.kind === 'uniform') {
      hooks.queryScale ??= new Float32Array(nHeads).fill(1);
      for (const h of headsOf(iv.head)) hooks.queryScale[h] = 0;
    } else {
      hooks.headScale ??= new Float32Array(nHeads).fill(1);
      for (const h of headsOf(iv.head)) hooks.headScale[h] = hooks.headScale[h]! * iv.scale;
    }
  }
  return out;
}

function checkAct(s: ActSettings): void {
  if (s.tau !== undefined && !(s.tau >= 0 && Number.isFinite(s.tau))) throw new RangeError(`ACT τ must be a finite number ≥ 0 (got ${s.tau})`);
  if (s.beta !== undefined && !(s.beta >= 0 && s.beta <= 1)) throw new RangeError(`ACT β must be in [0, 1] (got ${s.beta})`);
  const k = s.ignoreLastKeys;
  if (k !== undefined && !(Number.isInteger(k) && k >= 0)) throw new RangeError(`ACT ignoreLastKeys must be a whole number ≥ 0 (got ${k})`);
}
