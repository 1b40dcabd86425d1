/** Which model is wanted (selected), which one the worker holds (active), and the download progress. */
import { create } from 'zustand';
import { initialModel } from '../engine/model-ref.js';
import type { LoadedSummary, LoadProgressInfo, ModelRef } from '../engine/protocol.js';

export interface ModelState {
  selected: ModelRef;
  /** The last model that finished loading; prompts run on it. */
  active: ModelRef | null;
  activeInfo: LoadedSummary | null;
  progress: LoadProgressInfo | null;
  /** The hub field's text (pre-filled by `?model=hub:…`). */
  hubRepo: string;
  /** A hub mirror on this origin (`?hubEndpoint=`), or null for huggingface.co. */
  hubEndpoint: string | null;
  select(ref: ModelRef): void;
  activate(ref: ModelRef, info: LoadedSummary): void;
  /** Back to the active model (after a cancelled or failed load). */
  revert(): void;
  setProgress(p: LoadProgressInfo | null): void;
  setHubRepo(repo: string): void;
}

const start = initialModel(typeof location === 'undefined' ? '' : location.search, import.meta.env?.BASE_URL ?? '/');

export const useModelStore = create<ModelState>()((set) => ({
  selected: start.ref,
  active: null,
  activeInfo: null,
  progress: null,
  hubRepo: start.hubRepo ?? '',
  hubEndpoint: start.hubEndpoint,
  select: (ref) => set({ selected: ref, progress: null }),
  activate: (ref, info) => set({ active: ref, activeInfo: info, progress: null }),
  revert: () => set((s) => (s.active ? { selected: s.active, progress: null } : { progress: null })),
  setProgress: (progress) => set({ progress }),
  setHubRepo: (hubRepo) => set({ hubRepo }),
}));
