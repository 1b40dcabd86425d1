/** The prompt editor, the BOS switch, the submitted prompt (what Run started) and uploaded prompt sets. */
import { create } from 'zustand';
import type { PromptSet } from '../lib/prompt-sets.js';

export const DEFAULT_PROMPT = 'The cat sat on the mat. The dog sat on the log. The cat sat on the';

export interface Submitted {
  text: string;
  bos: boolean;
}

export interface PromptState {
  text: string;
  /** null: the model's own default. */
  bos: boolean | null;
  submitted: Submitted | null;
  sets: PromptSet[];
  setText(text: string): void;
  setBos(bos: boolean): void;
  submit(s: Submitted): void;
  addSet(set: PromptSet): void;
  removeSet(name: string): void;
}

export const usePromptStore = create<PromptState>()((set) => ({
  text: DEFAULT_PROMPT,
  bos: null,
  submitted: null,
  sets: [],
  setText: (text) => set({ text }),
  setBos: (bos) => set({ bos }),
  submit: (submitted) => set({ submitted }),
  // A set with the same file name replaces the earlier one.
  addSet: (s) => set((st) => ({ sets: [...st.sets.filter((x) => x.name !== s.name), s] })),
  removeSet: (name) => set((st) => ({ sets: st.sets.filter((x) => x.name !== name) })),
}));
