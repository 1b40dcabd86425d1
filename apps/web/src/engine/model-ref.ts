/** Model references on the main thread: the default, the `?model=` URL parameter, and stable query keys. */
import type { ModelRef } from './protocol.js';

export const DEFAULT_MODEL_ID = 'headscope-tiny';

const BUNDLED_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function bundledRef(id: string, base = '/'): ModelRef {
  return { kind: 'bundled', id, baseUrl: `${base.replace(/\/?$/, '/')}models/${encodeURIComponent(id)}/` };
}

/**
 * The model the page starts with: `?model=bundled:<id>` picks another bundled model (development and
 * tests use it); `?model=hub:<owner/name@rev>` only pre-fills the hub field (a download needs a click).
 */
export function initialModel(search: string, base = '/'): { ref: ModelRef; hubRepo: string | null; hubEndpoint: string | null } {
  const params = new URLSearchParams(search);
  const p = params.get('model') ?? '';
  // `?hubEndpoint=/path` points hub downloads at a mirror on this origin (same-origin paths only).
  const e = params.get('hubEndpoint');
  const hubEndpoint = e && /^\/[A-Za-z0-9._~/-]*$/.test(e) && !e.includes('..') ? e : null;
  const bundled = /^bundled:(.+)$/.exec(p);
  if (bundled && BUNDLED_ID.test(bundled[1]!)) return { ref: bundledRef(bundled[1]!, base), hubRepo: null, hubEndpoint };
  const hub = /^hub:(.+)$/.exec(p);
  return { ref: bundledRef(DEFAULT_MODEL_ID, base), hubRepo: hub ? hub[1]! : null, hubEndpoint };
}

/** A string that identifies a model for query keys (local files by name, size and modification time). */
export function modelKey(ref: ModelRef): string {
  if (ref.kind === 'bundled') return `bundled:${ref.id}`;
  if (ref.kind === 'hub') return `hub:${ref.endpoint ? `${ref.endpoint}|` : ''}${ref.repo}`;
  const files = [...ref.files].map((f) => `${f.name}:${f.size}:${f.lastModified}`).sort();
  return `local:${ref.name}:${files.join('|')}`;
}

export function modelLabel(ref: ModelRef): string {
  if (ref.kind === 'bundled') return ref.id;
  if (ref.kind === 'hub') return ref.repo;
  return ref.name;
}
