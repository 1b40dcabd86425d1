/**
 * A plain reference for the behavioural check, independent of the GPU kernels: the whole forward pass in
 * loops over host arrays read through WeightAccess (learned-position, pre-norm families: GPT-2-style), then
 * each head's output at the last position through the final norm's scale as a linear map and W_U
 * (behaviour.ts states the definition). For tests on small models: it reads whole matrices back.
 */
import type { EngineConfig, HeadWeights, MlpWeights, NormWeights, WeightAccess } from '@headscope/models';
import type { PromptHeadResult, SuccessorPrompt } from './behaviour.js';
import { dot, mlp, normRow, vecMat } from './reference.js';

export async function successorBehaviourReference(
  model: { config: EngineConfig; weights: WeightAccess },
  prompts: readonly SuccessorPrompt[],
): Promise<PromptHeadResult[][]> {
  const { config: c, weights } = model;
  if (c.positional !== 'learned' || (c.sublayerNorms ?? 'pre') !== 'pre') throw new Error('the reference covers learned-position, pre-norm families');
  const d = c.dModel;
  const [E, pos, W_U, lnF] = await Promise.all([weights.embedding(), weights.positionEmbedding(), weights.unembedding(), weights.norm('final')]);
  const layers: { heads: HeadWeights[]; ln1: NormWeights; ln2: NormWeights; mlp: MlpWeights; bO: Float32Array | undefined }[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const heads: HeadWeights[] = [];
    for (let h = 0; h < c.nHeads; h++) heads.push(await weights.head(l, h));
    layers.push({
      heads,
      ln1: await weights.norm(l, 'ln1'),
      ln2: await weights.norm(l, 'ln2'),
      mlp: await weights.mlp(l),
      bO: await weights.attentionOutputBias(l),
    });
  }
  const column = (j: number) => Float64Array.from({ length: d }, (_, i) => W_U.data[i * W_U.cols + j]!);
  return prompts.map((p) => {
    const T = p.tokens.length;
    const x = p.tokens.map((t, i) => Float64Array.from({ length: d }, (_, k) => E.data[t * d + k]! * (c.embedScale ?? 1) + (pos ? pos.data[i * d + k]! : 0)));
    const headOut: Float64Array[] = [];
    const lastAttention: number[] = [];
    for (const L of layers) {
      const hIn = x.map((r) => normRow(r, L.ln1, c));
      const attnOut = x.map(() => new Float64Array(d));
      L.heads.forEach((hw) => {
        const q = hIn.map((r) => vecMat(r, hw.W_Q, hw.b_Q));
        const k = hIn.map((r) => vecMat(r, hw.W_K, hw.b_K));
        const v = hIn.map((r) => vecMat(r, hw.W_V, hw.b_V));
        const scale = c.attnScale ?? 1 / Math.sqrt(c.dHead);
        for (let i = 0; i < T; i++) {
          const s = Array.from({ length: i + 1 }, (_, j) => dot(q[i]!, k[j]!) * scale);
          const m = Math.max(...s);
          const e = s.map((v2) => Math.exp(v2 - m));
          const sum = e.reduce((a, b) => a + b, 0);
          const z = new Float64Array(c.dHead);
          e.forEach((w, j) => {
            for (let t = 0; t < c.dHead; t++) z[t]! += (w / sum) * v[j]![t]!;
          });
          const o = vecMat(z, hw.W_O);
          for (let t = 0; t < d; t++) attnOut[i]![t]! += o[t]!;
          if (i === T - 1) {
            headOut.push(o);
            lastAttention.push(e[p.lastItem]! / sum);
          }
        }
      });
      const mlpIn = c.parallelResidual ? x.map((r) => normRow(r, L.ln2, c)) : undefined;
      x.forEach((r, i) => {
        for (let t = 0; t < d; t++) r[t]! += attnOut[i]![t]! + (L.bO?.[t] ?? 0);
      });
      x.forEach((r, i) => {
        const m = mlp(mlpIn ? mlpIn[i]! : normRow(r, L.ln2, c), L.mlp, c);
        for (let t = 0; t < d; t++) r[t]! += m[t]!;
      });
    }
    // The final norm as a linear map at the last position: centre (LayerNorm), × weight, ÷ σ of this residual.
    const last = x[T - 1]!;
    const mu = c.norm === 'layernorm' ? last.reduce((a, b) => a + b, 0) / d : 0;
    const sigma = Math.sqrt(last.reduce((a, b) => a + (b - mu) ** 2, 0) / d + c.normEps);
    const offset = c.norm === 'rmsnorm' ? (c.normWeightOffset ?? 0) : 0;
    const [uS, uI] = [column(p.successor), column(p.item)];
    return headOut.map((o, lh) => {
      const om = c.norm === 'layernorm' ? o.reduce((a, b) => a + b, 0) / d : 0;
      const y = Float64Array.from(o, (v, t) => ((v - om) * (lnF.w ? lnF.w[t]! + offset : 1)) / sigma);
      return { attention: lastAttention[lh]!, successor: dot(y, uS), item: dot(y, uI) };
    });
  });
}
