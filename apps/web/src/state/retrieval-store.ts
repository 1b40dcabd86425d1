/**
 * The retrieval lab's state: its settings (needle set, haystack, lengths, depths, answer budget, masking),
 * the run in progress (tests streaming in), the finished report, and the cell and test being viewed.
 * Not saved in sessions: a run is recomputed from the settings.
 */
import { create } from 'zustand';
import type { EngineErrorInfo } from '../engine/protocol.js';
import type { RetrievalOutcome, RetrievalRequest, RetrievalTestRow } from '../engine/retrieval-protocol.js';

export type TextSource = { kind: 'builtin' } | { kind: 'file'; name: string; text: string; detail: string };

export type RunStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

export interface RetrievalLabState {
  needles: TextSource;
  haystack: TextSource;
  lengths: string;
  depths: string;
  maxNewTokens: number;
  maskTop: number;
  seed: number;
  /** A rejected upload: what is wrong and what to do. */
  inputError: EngineErrorInfo | null;

  status: RunStatus;
  /** The settings of the run shown (viewing a test recomputes it from these). */
  request: RetrievalRequest | null;
  model: string | null;
  done: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
  lengthsRun: number[];
  depthsRun: number[];
  needlesRun: number;
  rows: RetrievalTestRow[];
  outcome: RetrievalOutcome | null;
  error: EngineErrorInfo | null;
  /** The cell in focus (depth row, length column) and the test viewed in it (needle index). */
  cell: { d: number; l: number };
  needle: number;
  viewing: boolean;
  /** The head whose attention the test view shows (null: the top retrieval head). */
  viewHead: { layer: number; head: number } | null;

  set(patch: Partial<RetrievalLabState>): void;
}

export const useRetrievalStore = create<RetrievalLabState>((set) => ({
  needles: { kind: 'builtin' },
  haystack: { kind: 'builtin' },
  lengths: '',
  depths: '',
  maxNewTokens: 50,
  maskTop: 0,
  seed: 0,
  inputError: null,
  status: 'idle',
  request: null,
  model: null,
  done: 0,
  total: 0,
  elapsedMs: 0,
  etaMs: Number.NaN,
  lengthsRun: [],
  depthsRun: [],
  needlesRun: 0,
  rows: [],
  outcome: null,
  error: null,
  cell: { d: 0, l: 0 },
  needle: 0,
  viewing: false,
  viewHead: null,
  set: (patch) => set(patch),
}));

/** The request the current settings make. */
export function requestOf(s: RetrievalLabState): RetrievalRequest {
  return {
    ...(s.needles.kind === 'file' ? { needlesJsonl: s.needles.text } : {}),
    ...(s.haystack.kind === 'file' ? { haystack: s.haystack.text } : {}),
    lengths: s.lengths,
    depths: s.depths,
    maxNewTokens: s.maxNewTokens,
    maskTop: s.maskTop,
    seed: s.seed,
  };
}
