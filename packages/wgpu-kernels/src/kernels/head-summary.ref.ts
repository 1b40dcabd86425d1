/**
 * CPU reference for headSummary (float64 accumulation), straight from the definitions: per head, sums over
 * the query rows of the quantities the head atlas scores (../shared/methods.md §1–§3). Field order is
 * HEAD_SUMMARY_FIELDS.
 */
import { HEAD_SUMMARY_FIELDS, HEAD_SUMMARY_STRIDE, type HeadSummaryOptions } from './head-summary.js';

/** `probs` [H, T, Tk], `tokens` the Tk key tokens; returns [H, HEAD_SUMMARY_STRIDE] row sums. */
export function headSummaryRef(
  probs: Float32Array,
  h: number,
  t: number,
  tk: number,
  tokens: ArrayLike<number>,
  options: HeadSummaryOptions = {},
): Float32Array {
  const qoff = options.queryOffset ?? tk - t;
  const n = options.probeN ?? 0;
  const f = Object.fromEntries(HEAD_SUMMARY_FIELDS.map((name, i) => [name, i])) as Record<(typeof HEAD_SUMMARY_FIELDS)[number], number>;
  const out = new Float32Array(h * HEAD_SUMMARY_STRIDE);
  for (let head = 0; head < h; head++) {
    const s = new Float64Array(HEAD_SUMMARY_STRIDE);
    for (let i = 0; i < t; i++) {
      const qi = qoff + i;
      const qt = tokens[qi];
      for (let j = 0; j <= Math.min(qi, tk - 1); j++) {
        const x = probs[(head * t + i) * tk + j]!;
        if (x > 0) s[f.entropy]! -= x * Math.log(x);
        s[f.distance]! += x * (qi - j);
        if (j === qi) s[f.self]! += x;
        const pattern = [j + 1 === qi ? 1 : 0, j < qi && tokens[j] === qt ? 1 : 0, j >= 1 && tokens[j - 1] === qt ? 1 : 0];
        if (!((options.excludeBos && j === 0) || (options.excludeCurrentToken && j === qi))) {
          s[f.kept]! += x;
          s[f.mulPrevious]! += x * pattern[0]!;
          s[f.mulDuplicate]! += x * pattern[1]!;
          s[f.mulInduction]! += x * pattern[2]!;
          s[f.absPrevious]! += Math.abs(x - pattern[0]!);
          s[f.absDuplicate]! += Math.abs(x - pattern[1]!);
          s[f.absInduction]! += Math.abs(x - pattern[2]!);
        }
        if (j + 1 === qi) s[f.diagPrevious]! += x;
        if (n > 0 && qi >= n && j === qi - n) s[f.diagDuplicate]! += x;
        if (n > 1 && qi >= n && j === qi - n + 1) s[f.diagInduction]! += x;
      }
    }
    out.set(s, head * HEAD_SUMMARY_STRIDE);
  }
  return out;
}
