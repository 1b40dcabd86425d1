/**
 * Choosing heads and strength on labelled examples. ACT (methods.md §6): calibrate one head at a time over
 * the allowed layers, keep the heads that raise accuracy on the choose split, then evaluate the kept set.
 * ZeroTuning (§7): profile each head at γ = 2 (up-/down-effective), then a γ grid on the chosen heads,
 * picked by accuracy (supervised) or mean answer-position entropy (unsupervised). Every result is also
 * scored on the held-out split, which took no part in choosing.
 */
import { ACT_DEFAULTS, type ActSettings, act, type Intervention } from '@headscope/models';
import type { HeadRef } from './heads.js';
import { type ScoringModel, scoreTask, type TaskScore } from './scoring.js';
import type { EncodedExample } from './tasks.js';

export interface Split {
  choose: readonly EncodedExample[];
  heldOut: readonly EncodedExample[];
}

export interface SearchProgress {
  phase: 'baseline' | 'heads' | 'kept' | 'profile' | 'gamma' | 'held-out';
  /** Forward passes done and planned in all. */
  done: number;
  total: number;
}

export interface SearchOptions {
  signal?: AbortSignal;
  onProgress?: (p: SearchProgress) => void;
}

export interface BeforeAfter {
  before: { choose: TaskScore; heldOut: TaskScore };
  after: { choose: TaskScore; heldOut: TaskScore };
}

export interface HeadGain extends HeadRef {
  accuracy: number;
  /** Accuracy minus the uncalibrated accuracy on the choose split. */
  gain: number;
}

export interface ActSearchResult extends BeforeAfter {
  method: 'act';
  settings: Required<ActSettings>;
  layers: number[];
  heads: HeadGain[];
  kept: HeadRef[];
  seconds: number;
  secondsPerHead: number;
}

/** Layers the ACT search may calibrate: all but 0, 1 and the last (the authors' choice). */
export function actSearchLayers(nLayers: number): number[] {
  return Array.from({ length: nLayers }, (_, l) => l).filter((l) => l > 1 && l < nLayers - 1);
}

class Progress {
  done = 0;
  constructor(
    readonly total: number,
    readonly o: SearchOptions,
  ) {}
  tick = (phase: SearchProgress['phase']) => () => {
    this.done++;
    this.o.onProgress?.({ phase, done: this.done, total: this.total });
  };
}

export async function actHeadSearch(
  model: ScoringModel,
  split: Split,
  options: SearchOptions & { settings?: ActSettings; layers?: readonly number[]; onHead?: (h: HeadGain) => void } = {},
): Promise<ActSearchResult> {
  const t0 = performance.now();
  const settings = { ...ACT_DEFAULTS, ...options.settings };
  const layers = [...(options.layers ?? actSearchLayers(model.nLayers))];
  const candidates = layers.flatMap((layer) => Array.from({ length: model.nHeads }, (_, head) => ({ layer, head })));
  const nc = split.choose.length;
  const nh = split.heldOut.length;
  const progress = new Progress(nc * (candidates.length + 2) + 2 * nh, options);
  const run = (examples: readonly EncodedExample[], ivs: readonly Intervention[], phase: SearchProgress['phase']) =>
    scoreTask(model, examples, ivs, { ...(options.signal ? { signal: options.signal } : {}), onExample: progress.tick(phase) });

  const baseChoose = await run(split.choose, [], 'baseline');
  const heads: HeadGain[] = [];
  const th = performance.now();
  for (const h of candidates) {
    const s = await run(split.choose, act([h], settings), 'heads');
    const g = { ...h, accuracy: s.accuracy, gain: s.accuracy - baseChoose.accuracy };
    heads.push(g);
    options.onHead?.(g);
  }
  const secondsPerHead = (performance.now() - th) / 1000 / Math.max(1, candidates.length);
  const kept = heads.filter((h) => h.gain > 0).map(({ layer, head }) => ({ layer, head }));
  const ivs = act(kept, settings);
  const afterChoose = await run(split.choose, ivs, 'kept');
  const baseHeld = await run(split.heldOut, [], 'held-out');
  const afterHeld = await run(split.heldOut, ivs, 'held-out');
  return {
    method: 'act',
    settings,
    layers,
    heads,
    kept,
    before: { choose: baseChoose, heldOut: baseHeld },
    after: { choose: afterChoose, heldOut: afterHeld },
    seconds: (performance.now() - t0) / 1000,
    secondsPerHead,
  };
}

/** ZeroTuning on head index h in every layer (as in the authors' code). */
export function zeroTuningHeadIndex(heads: readonly number[], nLayers: number, gamma: number): Intervention[] {
  return heads.flatMap((head) => Array.from({ length: nLayers }, (_, layer) => ({ kind: 'logitBias', layer, head, key: 0, value: Math.log(gamma) }) as const));
}

export const GAMMA_GRID: readonly number[] = Array.from({ length: 16 }, (_, i) => (i + 1) * 0.25);

export interface GammaPoint {
  gamma: number;
  accuracy: number;
  validFormat: number;
  meanEntropy: number;
}

export interface ZeroTuningSearchResult extends BeforeAfter {
  method: 'zerotuning';
  objective: 'accuracy' | 'entropy';
  profileGamma: number;
  /** Per head index (applied in every layer): accuracy at γ = profileGamma and the class it implies. */
  profile: { head: number; accuracy: number; gain: number; effect: 'up' | 'down' | 'neutral' }[];
  /** The head indices the γ grid ran on: the up-effective ones, or every head when none is. */
  heads: number[];
  grid: GammaPoint[];
  gamma: number;
  seconds: number;
  secondsPerHead: number;
}

export async function zeroTuningSearch(
  model: ScoringModel,
  split: Split,
  options: SearchOptions & { objective?: 'accuracy' | 'entropy'; profileGamma?: number; grid?: readonly number[]; onPoint?: (p: GammaPoint) => void } = {},
): Promise<ZeroTuningSearchResult> {
  const t0 = performance.now();
  const objective = options.objective ?? 'accuracy';
  const profileGamma = options.profileGamma ?? 2;
  const grid = options.grid ?? GAMMA_GRID;
  const H = model.nHeads;
  const nc = split.choose.length;
  const progress = new Progress(nc * (2 + H + grid.length) + 2 * split.heldOut.length, options);
  const run = (examples: readonly EncodedExample[], ivs: readonly Intervention[], phase: SearchProgress['phase']) =>
    scoreTask(model, examples, ivs, { ...(options.signal ? { signal: options.signal } : {}), onExample: progress.tick(phase) });

  const baseChoose = await run(split.choose, [], 'baseline');
  const th = performance.now();
  const profile: ZeroTuningSearchResult['profile'] = [];
  for (let head = 0; head < H; head++) {
    const s = await run(split.choose, zeroTuningHeadIndex([head], model.nLayers, profileGamma), 'profile');
    const gain = s.accuracy - baseChoose.accuracy;
    profile.push({ head, accuracy: s.accuracy, gain, effect: gain > 0 ? 'up' : gain < 0 ? 'down' : 'neutral' });
  }
  const secondsPerHead = (performance.now() - th) / 1000 / H;
  const up = profile.filter((p) => p.effect === 'up').map((p) => p.head);
  const heads = up.length > 0 ? up : Array.from({ length: H }, (_, h) => h);
  const points: GammaPoint[] = [];
  for (const gamma of grid) {
    const s = await run(split.choose, zeroTuningHeadIndex(heads, model.nLayers, gamma), 'gamma');
    const p = { gamma, accuracy: s.accuracy, validFormat: s.validFormat, meanEntropy: s.meanEntropy };
    points.push(p);
    options.onPoint?.(p);
  }
  // Ties go to the γ closest to 1 (the smallest change).
  const better = (a: GammaPoint, b: GammaPoint) => {
    const d = objective === 'accuracy' ? a.accuracy - b.accuracy : b.meanEntropy - a.meanEntropy;
    return d > 1e-12 || (Math.abs(d) <= 1e-12 && Math.abs(Math.log(a.gamma)) < Math.abs(Math.log(b.gamma)));
  };
  const best = points.reduce((b, p) => (better(p, b) ? p : b));
  const ivs = zeroTuningHeadIndex(heads, model.nLayers, best.gamma);
  const afterChoose = await run(split.choose, ivs, 'gamma');
  const baseHeld = await run(split.heldOut, [], 'held-out');
  const afterHeld = await run(split.heldOut, ivs, 'held-out');
  return {
    method: 'zerotuning',
    objective,
    profileGamma,
    profile,
    heads,
    grid: points,
    gamma: best.gamma,
    before: { choose: baseChoose, heldOut: baseHeld },
    after: { choose: afterChoose, heldOut: afterHeld },
    seconds: (performance.now() - t0) / 1000,
    secondsPerHead,
  };
}
