/**
 * The forward pass on the CPU, for browsers without WebGPU: the same semantics as Transformer.forward
 * (capture per layer, the three intervention hooks, 'all' or 'last' logits) built from the kernels' CPU
 * references on Float32Arrays. No KV cache: every call recomputes the whole prompt.
 */
import {
  activationRef,
  addRef,
  attentionRef,
  embeddingRef,
  gatedProductRef,
  headScaleRef,
  layerNormRef,
  rmsNormRef,
  rotaryRef,
  rotaryTables,
  softcapRef,
} from '@headscope/wgpu-kernels';
import { ContextLengthError } from '../errors.js';
import { type CaptureSpec, resolveCapture, resolveStatsOnly } from './captured-maps.js';
import { CpuAttentionStore, type CpuCapturedLayer } from './cpu-attention-store.js';
import { type CpuModelWeights, type CpuNorm, linearCpu } from './cpu-weights.js';
import { compileInterventions, type Intervention } from './interventions.js';
import { type EngineConfig, gateActivation, layerAttentionOf } from './weights.js';

export interface CpuForwardOptions {
  capture?: CaptureSpec;
  interventions?: readonly Intervention[];
  /** Logits of every position or only the last. Default 'all'. */
  logits?: 'all' | 'last';
}

export interface CpuForwardResult {
  /** [T, vocab] row-major, or [1, vocab] with logits: 'last'. */
  logits: Float32Array;
  attention: CpuAttentionStore;
}

export class CpuTransformer {
  private readonly tables: { global?: { cos: Float32Array; sin: Float32Array }; local?: { cos: Float32Array; sin: Float32Array } } = {};

  constructor(
    readonly config: EngineConfig,
    readonly weights: CpuModelWeights,
  ) {
    if (config.positional === 'rotary') {
      if (!config.rotary) throw new Error('rotary positions need config.rotary');
      this.tables.global = rotaryTables(config.rotary.invFreq, config.nCtx);
      if (config.localRotary) this.tables.local = rotaryTables(config.localRotary.invFreq, config.nCtx);
    }
  }

  forward(ids: readonly number[], options: CpuForwardOptions = {}): CpuForwardResult {
    const { config: c, weights: w } = this;
    const T = ids.length;
    if (T === 0) throw new RangeError('forward needs at least one token');
    if (T > c.nCtx) throw new ContextLengthError(T, c.nCtx);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new RangeError(`token id ${id} is outside the vocabulary (0..${c.vocabSize - 1})`);
    }
    const captureLayers = resolveCapture(options.capture, c.nLayers);
    const statsLayers = resolveStatsOnly(options.capture, c.nLayers);
    const hooks = compileInterventions(options.interventions ?? [], c.nLayers, c.nHeads, T);
    const D = c.dModel;

    let x = embeddingRef(Uint32Array.from(ids), w.embed, D, w.pos ? { table: w.pos, offset: 0 } : undefined, c.embedScale ?? 1);
    const captured = new Map<number, CpuCapturedLayer>();
    const preNorms = (c.sublayerNorms ?? 'pre') !== 'post';
    const statsOnly = new Map<number, Float32Array>();

    for (let l = 0; l < c.nLayers; l++) {
      const lw = w.layers[l]!;
      const la = layerAttentionOf(c, l);
      const h = preNorms ? this.norm(x, lw.ln1) : x;
      let q = linearCpu(h, T, lw.q);
      let k = linearCpu(h, T, lw.k);
      const v = linearCpu(h, T, lw.v);
      if (lw.qNorm && lw.kNorm) {
        // Per head: rows of d_head; over the projection: rows of heads·d_head.
        const qk = (t: Float32Array, weight: Float32Array) => rmsNormRef(t, weight.length, weight, c.normEps, c.normWeightOffset ?? 0);
        q = qk(q, lw.qNorm);
        k = qk(k, lw.kNorm);
      }
      const table = la.rope === 'none' ? undefined : la.rope === 'local' ? this.tables.local : this.tables.global;
      if (table) {
        const r = la.rope === 'local' ? c.localRotary! : c.rotary!;
        const rot = (t: Float32Array, numHeads: number) =>
          rotaryRef({ x: t, numHeads, headDim: c.dHead, cos: table.cos, sin: table.sin, positionOffset: 0, rotaryDim: r.dim, style: r.style });
        q = rot(q, c.nHeads);
        k = rot(k, c.nKvHeads);
      }
      const lh = hooks.get(l);
      if (lh?.queryScale) q = headScaleRef(q, lh.queryScale, c.dHead);
      const att = attentionRef({
        q,
        k,
        v,
        numHeads: c.nHeads,
        numKvHeads: c.nKvHeads,
        headDim: c.dHead,
        kvLength: T,
        queryOffset: 0,
        ...(c.attnScale !== undefined ? { scale: c.attnScale } : {}),
        ...(la.window !== null ? { window: la.window } : {}),
        ...(c.attnSoftcap !== undefined ? { softcap: c.attnSoftcap } : {}),
        ...(lh?.logitBias ? { logitBias: lh.logitBias } : {}),
        ...(lh?.colScale ? { colScale: lh.colScale } : {}),
        ...(lh?.headScale ? { headScale: lh.headScale } : {}),
        ...(lh?.act ? { act: lh.act } : {}),
      });
      if (captureLayers.has(l)) captured.set(l, { probs: att.probs, ...(options.capture?.pre ? { pre: att.probsPre } : {}) });
      if (statsLayers.has(l)) statsOnly.set(l, att.probs);
      let attnOut = linearCpu(att.out, T, lw.o);
      if (lw.ln1Post) attnOut = this.norm(attnOut, lw.ln1Post);
      if (c.parallelResidual) {
        // GPT-NeoX: x + attn(ln1(x)) + mlp(ln2(x)), both branches reading the same x.
        const m = this.mlp(this.norm(x, lw.ln2), T, l);
        x = addRef(addRef(x, attnOut), m);
      } else {
        x = addRef(x, attnOut);
        let m = this.mlp(preNorms ? this.norm(x, lw.ln2) : x, T, l);
        if (lw.ln2Post) m = this.norm(m, lw.ln2Post);
        x = addRef(x, m);
      }
    }

    const rows = options.logits === 'last' ? 1 : T;
    const last = rows === T ? x : x.slice((T - 1) * D, T * D);
    const raw = linearCpu(this.norm(last, w.lnFinal), rows, w.unembed);
    const logits = c.finalSoftcap === undefined ? raw : softcapRef(raw, c.finalSoftcap);
    return { logits, attention: new CpuAttentionStore(captured, c.nHeads, T, T, 0, statsOnly) };
  }

  private norm(x: Float32Array, n: CpuNorm): Float32Array {
    const c = this.config;
    if (c.norm === 'layernorm') return layerNormRef(x, c.dModel, n.w ?? null, n.b ?? null, c.normEps);
    return rmsNormRef(x, c.dModel, n.w ?? null, c.normEps, c.normWeightOffset ?? 0);
  }

  private mlp(h: Float32Array, rows: number, layer: number): Float32Array {
    const c = this.config;
    const lw = this.weights.layers[layer]!;
    const up = linearCpu(h, rows, lw.mlpIn);
    const hidden = c.gatedMlp ? gatedProductRef(linearCpu(h, rows, lw.mlpGate!), up, gateActivation(c.act)) : activationRef(up, c.act);
    return linearCpu(hidden, rows, lw.mlpOut);
  }
}
