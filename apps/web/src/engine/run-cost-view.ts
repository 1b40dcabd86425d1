/**
 * What the prompt editor shows before a run: the GPU memory the run will add to the loaded weights (the
 * engine's own estimate, the one the forward pass checks), and, when a buffer exceeds what this GPU can
 * bind, the refusal the engine would give, with its fix, so Run is disabled instead of failing.
 */
import { type RunCost, runCostRefusal } from '@headscope/models';

export interface RunCostView {
  tokens: number;
  totalBytes: number;
  mapsBytes: number;
  mapLayers: number;
  activationBytes: number;
  logitsBytes: number;
  largest: { what: string; bytes: number };
  /** The most one buffer may hold on this GPU (maxStorageBufferBindingSize, within maxBufferSize). */
  limitBytes: number;
  /** Absent when the run fits. */
  refusal?: { message: string; fix: string };
}

export function runCostView(cost: RunCost, limitBytes: number): RunCostView {
  const refusal = runCostRefusal(cost, limitBytes);
  return {
    tokens: cost.tokens,
    totalBytes: cost.totalBytes,
    mapsBytes: cost.mapsBytes,
    mapLayers: cost.mapLayers,
    activationBytes: cost.activationBytes,
    logitsBytes: cost.logitsBytes,
    largest: { ...cost.largestBuffer },
    limitBytes,
    ...(refusal ? { refusal: { message: refusal.happened, fix: refusal.fix } } : {}),
  };
}
