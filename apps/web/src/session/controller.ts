/**
 * The app's current session: opens the saved store at startup (a shared link in the hash first, else the most
 * recent session, else a new one), autosaves every change of the model, prompt and view stores, and opens
 * sessions from links, files and the list. A link or file that fails to open leaves the current session as it is.
 */
import { modelKey } from '../engine/model-ref.js';
import { useAtlasStore } from '../state/atlas-store.js';
import { useCalibrationStore } from '../state/calibration-store.js';
import { useModelStore } from '../state/model-store.js';
import { DEFAULT_PROMPT, usePromptStore } from '../state/prompt-store.js';
import { useSessionUi } from '../state/session-ui.js';
import { useViewStore } from '../state/view-store.js';
import { applySession, currentState } from './app-state.js';
import { Autosaver } from './autosave.js';
import { captureSession, localModelHash, sameContent, sessionModelOf } from './bridge.js';
import { decodeFile, decodeShare } from './codec.js';
import { IndexedDbSessionStore } from './idb.js';
import { newSession, type Session, type SessionModel } from './schema.js';
import { MemorySessionStore, newSessionId, type SessionStore } from './store.js';

let store: SessionStore | null = null;
let saver: Autosaver | null = null;
let previous: Session | null = null;
let started = false;
/** The model that was loaded when a session waiting for a hub or local model opened: its load must not replace the session's model. */
let awaitingKey: string | null = null;

/** True while a session is put into the stores (their changes are that session's, not edits of the current one). */
let applying = false;

function opened(session: Session): void {
  applying = true;
  try {
    applySession(session);
  } finally {
    applying = false;
  }
  const sel = useModelStore.getState().selected;
  awaitingKey = session.model.kind === 'bundled' ? null : modelKey(useModelStore.getState().active ?? sel);
}

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const quota = e instanceof DOMException && e.name === 'QuotaExceededError';
  return quota ? 'the browser storage for this site is full' : msg || 'the browser refused to store it (private mode?)';
}

export function sessionStore(): SessionStore {
  store ??= typeof indexedDB === 'undefined' ? new MemorySessionStore() : new IndexedDbSessionStore();
  return store;
}

function fallbackModel(): SessionModel {
  const sel = useModelStore.getState().selected;
  return sessionModelOf(sel) ?? { kind: 'bundled', id: 'headscope-tiny' };
}

/** The current session as it would be saved now. */
export function currentSession(): Session {
  const model = useSessionUi.getState().model ?? fallbackModel();
  return captureSession(model, currentState(previous), Date.now(), previous ?? undefined);
}

function schedule(): void {
  if (!saver || applying || !useSessionUi.getState().ready) return;
  const s = currentSession();
  previous = s;
  const last = saver.lastSaved;
  if ((!last || !sameContent(s, last)) && useSessionUi.getState().save.kind !== 'error') useSessionUi.setState({ save: { kind: 'pending' } });
  saver.schedule(s);
}

function switchSaver(id: string, saved: Session | null): void {
  // Callers flush the previous saver first.
  saver?.dispose();
  saver = new Autosaver(sessionStore(), id, {
    delayMs: 400,
    onSaved: (s) => useSessionUi.setState((u) => ({ save: { kind: 'saved', at: s.updated }, name: s.name, listVersion: u.listVersion + 1 })),
    onError: (e) => useSessionUi.setState({ save: { kind: 'error', message: errorText(e) } }),
  });
  if (saved) saver.markSaved(saved);
  useSessionUi.setState({ id });
}

/** Opens a session from a link or file as a new saved session (the current one stays in the list). */
export async function openAsNew(session: Session): Promise<void> {
  if (saver) await saver.flush();
  const id = newSessionId();
  previous = session;
  opened(session);
  useSessionUi.setState({ openError: null });
  switchSaver(id, null);
  schedule();
  await saver?.flush();
}

/** Opens a saved session by id; false (with the error shown) when it cannot be opened. */
export async function openSaved(id: string, model?: SessionModel): Promise<boolean> {
  try {
    const got = await sessionStore().get(id);
    if (!got?.ok) {
      useSessionUi.setState({ openError: got ? got.error.message : 'This session no longer exists.' });
      return false;
    }
    if (saver) await saver.flush();
    const session = model ? { ...got.session, model } : got.session;
    previous = session;
    opened(session);
    useSessionUi.setState({ openError: null, save: { kind: 'saved', at: got.session.updated } });
    switchSaver(id, got.session);
    return true;
  } catch (e) {
    useSessionUi.setState({ openError: `Could not read the saved sessions: ${errorText(e)}` });
    return false;
  }
}

/** Opens a shared link (`#s=…` or a full URL); on failure shows why and changes nothing. */
export async function openLink(text: string): Promise<boolean> {
  const r = await decodeShare(text);
  if (!r.ok) {
    useSessionUi.setState({ openError: r.error.message });
    return false;
  }
  await openAsNew(r.session);
  return true;
}

/** Opens a `.headscope.json` file's text; on failure shows why and changes nothing. */
export async function openFileText(text: string): Promise<boolean> {
  const r = decodeFile(text);
  if (!r.ok) {
    useSessionUi.setState({ openError: r.error.message });
    return false;
  }
  await openAsNew(r.session);
  return true;
}

/** After a rename or delete in the list: keeps the current session's name (and saved copy) in step. */
export function renamedCurrent(session: Session): void {
  previous = session;
  saver?.markSaved(session);
  useSessionUi.setState({ name: session.name });
}

export function flushNow(): Promise<void> {
  return saver ? saver.flush() : Promise.resolve();
}

async function openHash(): Promise<boolean> {
  if (!/[#&]s=/.test(location.hash)) return false;
  const hash = location.hash;
  history.replaceState(null, '', location.pathname + location.search);
  return openLink(hash);
}

/** A `?model=` in the page's URL is an explicit choice: the restored session opens with that model instead of its own. */
async function restoreLatest(): Promise<void> {
  const urlModel = new URLSearchParams(location.search).has('model') ? fallbackModel() : undefined;
  try {
    const list = await sessionStore().list();
    for (const e of list) if (e.ok && (await openSaved(e.id, urlModel))) return;
  } catch (e) {
    useSessionUi.setState({ save: { kind: 'error', message: `the saved sessions could not be read: ${errorText(e)}` } });
  }
  const s = newSession(fallbackModel(), usePromptStore.getState().text || DEFAULT_PROMPT, Date.now());
  previous = s;
  useSessionUi.setState({ model: s.model, name: s.name });
  switchSaver(newSessionId(), null);
}

/** Starts the session machinery once (idempotent). */
export async function startSessions(): Promise<void> {
  if (started) return;
  started = true;
  useSessionUi.setState({ model: fallbackModel() });
  if (!(await openHash())) await restoreLatest();
  useSessionUi.setState({ ready: true });
  schedule();
  usePromptStore.subscribe((s, p) => {
    if (s.text !== p.text || s.bos !== p.bos) schedule();
  });
  useViewStore.subscribe((s, p) => {
    if (s.head.locked !== p.head.locked || s.query !== p.query || s.compare !== p.compare || s.metric !== p.metric) schedule();
    else if (s.scale !== p.scale || s.scheme !== p.scheme || s.foldFirst !== p.foldFirst) schedule();
  });
  useCalibrationStore.subscribe((s, p) => {
    if (s.act !== p.act || s.zeroTuning !== p.zeroTuning) schedule();
  });
  useAtlasStore.subscribe((s, p) => {
    if (s.settings !== p.settings || s.metric !== p.metric) schedule();
  });
  useModelStore.subscribe((s, p) => {
    if (s.active !== p.active && s.active) void trackModel();
  });
  useSessionUi.subscribe((s, p) => {
    if (s.model !== p.model) schedule();
  });
  const flush = () => void flushNow();
  addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  addEventListener('hashchange', () => void openHash());
}

/** The loaded model becomes the session's model (a local one by its files' content hash). */
async function trackModel(): Promise<void> {
  const active = useModelStore.getState().active;
  if (!active) return;
  if (awaitingKey !== null) {
    if (modelKey(active) === awaitingKey || modelKey(useModelStore.getState().selected) === awaitingKey) return;
    awaitingKey = null;
  }
  let hash: string | undefined;
  if (active.kind === 'local') {
    try {
      hash = await localModelHash(active.files);
    } catch {
      return;
    }
  }
  const m = sessionModelOf(active, hash);
  if (m && useModelStore.getState().active === active) useSessionUi.setState({ model: m, needsFiles: null });
}
