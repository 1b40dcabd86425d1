/** CPU reference for attentionStats (float64 accumulation), straight from the definitions. */
export interface AttentionStatsRef {
  /** [H, Tk] */
  colMean: Float32Array;
  /** [H, T] */
  entropy: Float32Array;
  /** [H, T] */
  argmax: Uint32Array;
  /** [H, T] */
  firstMass: Float32Array;
}

/** `probs` is [H, T, Tk]; `queryOffset` defaults to Tk − T. */
export function attentionStatsRef(probs: Float32Array, h: number, t: number, tk: number, queryOffset = tk - t): AttentionStatsRef {
  const at = (head: number, i: number, j: number): number => probs[(head * t + i) * tk + j]!;
  const colMean = new Float32Array(h * tk);
  const entropy = new Float32Array(h * t);
  const argmax = new Uint32Array(h * t);
  const firstMass = new Float32Array(h * t);
  for (let head = 0; head < h; head++) {
    for (let j = 0; j < tk; j++) {
      let sum = 0;
      let count = 0;
      for (let i = 0; i < t; i++) {
        if (queryOffset + i >= j) {
          sum += at(head, i, j);
          count++;
        }
      }
      colMean[head * tk + j] = count > 0 ? sum / count : 0;
    }
    for (let i = 0; i < t; i++) {
      let ent = 0;
      let best = 0;
      for (let j = 0; j < tk; j++) {
        const x = at(head, i, j);
        if (x > 0) ent -= x * Math.log(x);
        if (x > at(head, i, best)) best = j;
      }
      entropy[head * t + i] = ent;
      argmax[head * t + i] = best;
      firstMass[head * t + i] = tk > 0 ? at(head, i, 0) : 0;
    }
  }
  return { colMean, entropy, argmax, firstMass };
}
