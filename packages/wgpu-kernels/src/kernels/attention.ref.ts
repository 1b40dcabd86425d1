/**
 * CPU reference for causal attention with its three hook points (float64 throughout, float32 results).
 * Written straight from the definitions, independently of the WGSL: one (head, query row) at a time.
 */
export interface AttentionRefArgs {
  /** [T, Hq*D] */
  q: Float32Array;
  /** [>= kvLength, Hkv*D]; rows beyond kvLength are ignored */
  k: Float32Array;
  v: Float32Array;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  kvLength: number;
  /** default kvLength - T */
  queryOffset?: number;
  /** default 1/sqrt(headDim) */
  scale?: number;
  /** Sliding window: key j is visible to the query at absolute position i only if i − j < window. */
  window?: number;
  /** Soft-capping: the scaled score s becomes softcap·tanh(s/softcap) before the bias. */
  softcap?: number;
  /** [Hq, kvLength] */
  logitBias?: Float32Array;
  /** [Hq, kvLength] */
  colScale?: Float32Array;
  /** [Hq] */
  headScale?: Float32Array;
  /** [Hq, 4] ACT per head: mode (0 off, 1 first of Sraw exempt, 2 none exempt), τ, β, last keys ignored. */
  act?: Float32Array;
}

export interface AttentionRefResult {
  /** [T, Hq*D] */
  out: Float32Array;
  /** [Hq, T, kvLength] probabilities after the rewrite */
  probs: Float32Array;
  /** [Hq, T, kvLength] probabilities before the rewrite */
  probsPre: Float32Array;
}

/** A bias at or below this (−∞ included) removes the key, as the GPU kernel does. */
const MASKED_BIAS = -1e30;

export function attentionRef(a: AttentionRefArgs): AttentionRefResult {
  const { numHeads: hq, numKvHeads: hkv, headDim: d, kvLength: tk } = a;
  const t = a.q.length / (hq * d);
  const qo = a.queryOffset ?? tk - t;
  const scale = a.scale ?? 1 / Math.sqrt(d);
  const out = new Float32Array(t * hq * d);
  const probs = new Float32Array(hq * t * tk);
  const probsPre = new Float32Array(hq * t * tk);

  for (let h = 0; h < hq; h++) {
    const g = Math.floor((h * hkv) / hq); // the KV head this query head reads
    // Softmax rows of this head first: ACT needs the whole head's probabilities before any rewrite.
    const rows: Float64Array[] = [];
    for (let i = 0; i < t; i++) {
      const visible = Math.min(tk, qo + i + 1); // keys 0 … qo+i
      const score = new Float64Array(visible);
      const live: boolean[] = [];
      const firstInWindow = a.window === undefined ? 0 : qo + i - a.window + 1;
      for (let j = 0; j < visible; j++) {
        const b = a.logitBias ? a.logitBias[h * tk + j]! : 0;
        live.push(!(b <= MASKED_BIAS) && j >= firstInWindow);
        let dot = 0;
        for (let x = 0; x < d; x++) dot += a.q[i * hq * d + h * d + x]! * a.k[j * hkv * d + g * d + x]!;
        const s = dot * scale;
        score[j] = (a.softcap === undefined ? s : a.softcap * Math.tanh(s / a.softcap)) + b;
      }

      // Softmax over the live keys; a row with none stays all zero.
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < visible; j++) if (live[j] && score[j]! > max) max = score[j]!;
      const p = new Float64Array(visible);
      if (max > Number.NEGATIVE_INFINITY) {
        let sum = 0;
        for (let j = 0; j < visible; j++) {
          p[j] = live[j] ? Math.exp(score[j]! - max) : 0;
          sum += p[j]!;
        }
        for (let j = 0; j < visible; j++) p[j] = p[j]! / sum;
      }
      for (let j = 0; j < visible; j++) probsPre[(h * t + i) * tk + j] = p[j]!;
      rows.push(p);
    }

    const colScale = headColumnScale(a, h, tk, qo, rows);
    for (let i = 0; i < t; i++) {
      const p = rows[i]!;
      const visible = p.length;
      // Post-softmax rewrite: calibrated keys (s != 1) keep s·p, the removed mass goes to the others pro rata.
      const post = Float64Array.from(p);
      if (colScale) {
        let removed = 0;
        let keep = 0;
        for (let j = 0; j < visible; j++) {
          const s = colScale[j]!;
          if (s === 1) keep += p[j]!;
          else removed += (1 - s) * p[j]!;
        }
        if (keep > 0) {
          for (let j = 0; j < visible; j++) {
            const s = colScale[j]!;
            post[j] = s === 1 ? p[j]! + (removed * p[j]!) / keep : s * p[j]!;
          }
        }
      }
      for (let j = 0; j < visible; j++) probs[(h * t + i) * tk + j] = post[j]!;

      const hs = a.headScale ? a.headScale[h]! : 1;
      for (let x = 0; x < d; x++) {
        let acc = 0;
        for (let j = 0; j < visible; j++) acc += post[j]! * a.v[j * hkv * d + g * d + x]!;
        out[i * hq * d + h * d + x] = acc * hs;
      }
    }
  }
  return { out, probs, probsPre };
}

/**
 * The column scale of head h: ACT's when it is on for h (β on the keys of Sraw = {j : imp[j] > τ},
 * less the first when exempt, where imp[j] is the mean of column j over the rows that see it), else the
 * static colScale row, else none.
 */
function headColumnScale(a: AttentionRefArgs, h: number, tk: number, qo: number, rows: Float64Array[]): Float64Array | undefined {
  const base = a.colScale ? Float64Array.from(a.colScale.subarray(h * tk, (h + 1) * tk)) : undefined;
  const mode = a.act ? a.act[h * 4]! : 0;
  if (mode === 0) return base;
  const [tau, beta, tail] = [a.act![h * 4 + 1]!, a.act![h * 4 + 2]!, a.act![h * 4 + 3]!];
  const sraw: number[] = [];
  for (let j = 0; j < tk - tail; j++) {
    let sum = 0;
    let count = 0;
    rows.forEach((p, i) => {
      if (j <= qo + i) {
        sum += p[j]!;
        count++;
      }
    });
    if (count > 0 && sum / count > tau) sraw.push(j);
  }
  const calibrated = mode === 1 ? sraw.slice(1) : sraw;
  const scale = base ?? new Float64Array(tk).fill(1);
  for (const j of calibrated) scale[j] = beta;
  return scale;
}
