/**
 * The calibration panel's engine side: one calibrated forward pass (ACT and/or ZeroTuning from the panel's
 * settings) compared with the uncalibrated pass of the same tokens, which is kept per prompt so that a
 * slider step costs one forward pass. Only the selected head's maps, one logits row per run and per-head
 * change figures go back to the page.
 */
import { columnImportance, parseHeads } from '@headscope/analysis';
import { act, type CpuLoadedModel, type Intervention, type LoadedModel, zeroTuning } from '@headscope/models';
import type { GpuTensor } from '@headscope/wgpu-kernels';
import { topKFromLogits } from './matrix.js';
import type { CalibrationRequest, CalibrationSettings, CalibrationView, RankedPrediction } from './protocol.js';

type AnyModel = LoadedModel | CpuLoadedModel;

/** Every layer's maps ([H, T, T] each) and the logits [T, V] of one pass, on the host. */
interface PassOnHost {
  maps: Float32Array[];
  logits: Float32Array;
}

export function calibrationInterventions(s: CalibrationSettings, nLayers: number, nHeads: number): Intervention[] {
  const out: Intervention[] = [];
  if (s.act.on && s.act.heads.trim() !== '')
    out.push(...act(parseHeads(s.act.heads, nLayers, nHeads), { tau: s.act.tau, tauMode: s.act.tauMode, beta: s.act.beta }));
  if (s.zeroTuning.on && s.zeroTuning.heads.trim() !== '') out.push(...zeroTuning(parseHeads(s.zeroTuning.heads, nLayers, nHeads), s.zeroTuning.gamma));
  return out;
}

async function pass(m: AnyModel, ids: number[], interventions: Intervention[]): Promise<PassOnHost> {
  const L = m.config.nLayers;
  if ('backend' in m) {
    const r = m.run(ids, { interventions });
    return { maps: await Promise.all(Array.from({ length: L }, (_, l) => r.attention.layer(l))), logits: r.logits };
  }
  const r = m.run(ids, { interventions });
  const ctx = m.transformer.ctx;
  try {
    const maps = await Promise.all(Array.from({ length: L }, (_, l) => r.attention.layer(l)));
    return { maps, logits: await ctx.readF32(r.logits as GpuTensor) };
  } finally {
    r.attention.release();
    ctx.release(r.logits);
  }
}

/** Keeps the uncalibrated pass of the last prompt. */
export class CalibrationRunner {
  private base: { key: string; pass: PassOnHost } | undefined;

  reset(): void {
    this.base = undefined;
  }

  async view(m: AnyModel, req: CalibrationRequest): Promise<CalibrationView> {
    const { nLayers: L, nHeads: H, vocabSize: V } = m.config;
    const { ids, layer, head, position, k } = req;
    const T = ids.length;
    if (!(layer >= 0 && layer < L && head >= 0 && head < H)) throw new RangeError(`head L${layer}H${head} is outside this model`);
    if (!(position >= 0 && position < T)) throw new RangeError(`position ${position} is outside 0..${T - 1}`);
    const interventions = calibrationInterventions(req.settings, L, H);
    const key = `${ids.join(',')}`;
    if (this.base?.key !== key) this.base = { key, pass: await pass(m, ids, []) };
    const before = this.base.pass;
    const t0 = performance.now();
    const after = interventions.length ? await pass(m, ids, interventions) : before;
    const ms = performance.now() - t0;

    const headChange = new Float32Array(L * H);
    for (let l = 0; l < L; l++) {
      const a = before.maps[l]!;
      const b = after.maps[l]!;
      for (let h = 0; h < H; h++) {
        let tv = 0;
        for (let i = h * T * T; i < (h + 1) * T * T; i++) tv += Math.abs(a[i]! - b[i]!);
        headChange[l * H + h] = tv / 2 / T;
      }
    }
    const rowOf = (p: PassOnHost) => p.logits.subarray(position * V, (position + 1) * V);
    const tokenText = (id: number) => m.tokenizer.tokenText(id);
    const n = T * T;
    return {
      tokens: T,
      before: before.maps[layer]!.slice(head * n, (head + 1) * n),
      after: after.maps[layer]!.slice(head * n, (head + 1) * n),
      predictionsBefore: ranked(rowOf(before), rowOf(after), k, tokenText),
      predictionsAfter: ranked(rowOf(after), rowOf(before), k, tokenText),
      headChange,
      hiddenSinkHeads: hiddenSinkHeads(before.maps, H, T, req.settings.act.tauMode === 'relative' ? req.settings.act.tau / T : req.settings.act.tau),
      interventions: interventions.length,
      ms,
    };
  }
}

function ranked(row: Float32Array, other: Float32Array, k: number, text: (id: number) => string): RankedPrediction[] {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of other) if (v > max) max = v;
  let z = 0;
  for (const v of other) z += Math.exp(v - max);
  return topKFromLogits(row, k).map((p) => {
    const x = other[p.id]!;
    let above = 0;
    for (const v of other) if (v > x) above++;
    return { ...p, text: text(p.id), otherRank: above + 1, otherProb: Math.exp(x - max) / z };
  });
}

/** "l.h,…" of the heads where some key after the first of Sraw = {j : imp[j] > τ} exists (what ACT would calibrate). */
function hiddenSinkHeads(maps: Float32Array[], H: number, T: number, tau: number): string {
  const out: string[] = [];
  maps.forEach((layer, l) => {
    for (let h = 0; h < H; h++) {
      const imp = columnImportance({ n: T, data: layer.subarray(h * T * T, (h + 1) * T * T) });
      if (Array.from(imp).filter((v) => v > tau).length > 1) out.push(`${l}.${h}`);
    }
  });
  return out.join(',');
}
