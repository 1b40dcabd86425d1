/**
 * Between sessions and the app's state: model references both ways (a local model by its files' content
 * hash), and the plain state a session captures and restores. Pure functions; the stores call them.
 */
import type { ModelRef } from '../engine/protocol.js';
import { HUB_REPO, SESSION_VERSION, type Session, type SessionModel } from './schema.js';

/** SHA-256 (hex) of bytes. */
export async function sha256Hex(data: BufferSource): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The content hash of a local model: SHA-256 over the lines `name \t size \t sha256(file)` of its files sorted
 * by name. Reads one file at a time.
 */
export async function localModelHash(files: readonly File[]): Promise<string> {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let manifest = '';
  for (const f of sorted) manifest += `${f.name}\t${f.size}\t${await sha256Hex(await f.arrayBuffer())}\n`;
  return sha256Hex(new TextEncoder().encode(manifest));
}

/** The session's form of a model reference; a local model needs its content hash (`localModelHash`). */
export function sessionModelOf(ref: ModelRef, localSha256?: string): SessionModel | null {
  if (ref.kind === 'bundled') return { kind: 'bundled', id: ref.id };
  if (ref.kind === 'hub') {
    const at = ref.repo.indexOf('@');
    const repo = at < 0 ? ref.repo : ref.repo.slice(0, at);
    const revision = at < 0 ? 'main' : ref.repo.slice(at + 1);
    return HUB_REPO.test(repo) && revision ? { kind: 'hub', repo, revision } : null;
  }
  if (!localSha256) return null;
  return { kind: 'local', name: ref.name, sha256: localSha256, files: ref.files.map((f) => ({ name: f.name, size: f.size })) };
}

/**
 * What opening a session needs for its model: a reference to load (bundled, hub: the hub download still waits
 * for a click, like `?model=hub:`), or the user's local files, checked with `checkLocalFiles`.
 */
export type ModelPlan =
  | { kind: 'ref'; ref: ModelRef }
  | { kind: 'hub'; repo: string; ref: ModelRef }
  | { kind: 'needsFiles'; name: string; sha256: string; files: { name: string; size: number }[] };

export function modelPlan(m: SessionModel, bundledRef: (id: string) => ModelRef, hubEndpoint: string | null = null): ModelPlan {
  if (m.kind === 'bundled') return { kind: 'ref', ref: bundledRef(m.id) };
  if (m.kind === 'hub') {
    const repo = `${m.repo}@${m.revision}`;
    return { kind: 'hub', repo, ref: { kind: 'hub', repo, ...(hubEndpoint ? { endpoint: hubEndpoint } : {}) } };
  }
  return { kind: 'needsFiles', name: m.name, sha256: m.sha256, files: m.files };
}

export type LocalCheck = { ok: true; ref: ModelRef } | { ok: false; message: string };

/** Whether the files the user picked are the session's local model (names, sizes, then the content hash). */
export async function checkLocalFiles(m: Extract<SessionModel, { kind: 'local' }>, files: readonly File[]): Promise<LocalCheck> {
  const missing = m.files.filter((want) => !files.some((f) => f.name === want.name));
  if (missing.length)
    return { ok: false, message: `Pick the model's files: ${missing.map((f) => f.name).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing.` };
  const chosen = m.files.map((want) => files.find((f) => f.name === want.name)!);
  const wrongSize = m.files.filter((want, i) => chosen[i]!.size !== want.size);
  if (wrongSize.length) return { ok: false, message: `These files differ from the session's model (size): ${wrongSize.map((f) => f.name).join(', ')}.` };
  if ((await localModelHash(chosen)) !== m.sha256)
    return { ok: false, message: "These files have the same names and sizes but different contents from the session's model; its numbers would differ." };
  return { ok: true, ref: { kind: 'local', name: m.name, files: chosen } };
}

/** The app state a session holds (the view store's, the prompt store's and the heatmap's). */
export interface SessionState {
  prompts: string[];
  promptIndex: number;
  bos: boolean | null;
  selection: Session['selection'];
  view: Session['view'];
  /** The calibration panel's settings; absent: the previous session's (or none). */
  calibration?: Session['calibration'];
  /** The head atlas's changed detector settings and chosen score ('atlas.metric'); absent: the previous session's (or none). */
  detectors?: Session['detectors'];
}

/** A session from the app's state; `previous` keeps the name, creation time, interventions and detector settings. */
export function captureSession(model: SessionModel, state: SessionState, now: number, previous?: Session, name = 'Untitled session'): Session {
  return {
    ...(previous ?? {}),
    version: SESSION_VERSION,
    name: previous?.name ?? name,
    created: previous?.created ?? now,
    updated: now,
    model,
    prompts: [...state.prompts],
    promptIndex: Math.min(state.promptIndex, Math.max(0, state.prompts.length - 1)),
    bos: state.bos,
    selection: { ...state.selection, compare: state.selection.compare.map((h) => ({ ...h })) },
    view: { ...state.view, heatmap: { ...state.view.heatmap, zoom: state.view.heatmap.zoom ? { ...state.view.heatmap.zoom } : null } },
    ...(state.calibration ? { calibration: { act: { ...state.calibration.act }, zeroTuning: { ...state.calibration.zeroTuning } } } : {}),
    ...(state.detectors ? { detectors: { ...state.detectors } } : {}),
  };
}

/** Whether two sessions differ in anything but `updated` (autosave skips a put when they do not). */
export function sameContent(a: Session, b: Session): boolean {
  return canonical({ ...a, updated: 0 }) === canonical({ ...b, updated: 0 });
}

/** JSON with object keys sorted (absent and undefined fields alike). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
