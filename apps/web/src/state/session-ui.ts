/** The current session as the UI sees it: its id and model, save status, the last open error, and a pending local model. */
import { create } from 'zustand';
import type { SessionModel } from '../session/schema.js';

export type SaveStatus = { kind: 'idle' } | { kind: 'pending' } | { kind: 'saved'; at: number } | { kind: 'error'; message: string };

/** A session whose local model needs the user's files before it loads. */
export interface NeedsFiles {
  model: Extract<SessionModel, { kind: 'local' }>;
}

export interface SessionUiState {
  /** True once startup has opened (or created) a session. */
  ready: boolean;
  id: string | null;
  name: string;
  /** The model the session names (it can differ from the loaded one: a hub model waiting for its download). */
  model: SessionModel | null;
  save: SaveStatus;
  /** Why the last link or file did not open (shown in an alert). */
  openError: string | null;
  needsFiles: NeedsFiles | null;
  /** Bumped when the saved list changes. */
  listVersion: number;
  /** Bumped when a session is opened (remounts the model picker so it shows the session's model source). */
  opened: number;
}

export const useSessionUi = create<SessionUiState>()(() => ({
  ready: false,
  id: null,
  name: 'Untitled session',
  model: null,
  save: { kind: 'idle' },
  openError: null,
  needsFiles: null,
  listVersion: 0,
  opened: 0,
}));
