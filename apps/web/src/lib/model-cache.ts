/** The hub downloads kept in the Cache API: listed per model folder with their size, and removable. */
import { type CachedModel, MODEL_CACHE } from '../engine/protocol.js';

/** "https://huggingface.co/owner/name/resolve/main/" → "owner/name@main"; other URLs stay as they are. */
export function cacheLabel(base: string): string {
  const m = /^https?:\/\/[^/]+\/(.+?)\/resolve\/([^/]+)\/$/.exec(base);
  return m ? `${m[1]}@${decodeURIComponent(m[2]!)}` : base;
}

/** Groups cached file URLs by folder and sums their sizes. */
export function groupCached(entries: readonly { url: string; bytes: number }[]): CachedModel[] {
  const byBase = new Map<string, CachedModel>();
  for (const { url, bytes } of entries) {
    const base = url.slice(0, url.lastIndexOf('/') + 1);
    const m = byBase.get(base) ?? { base, label: cacheLabel(base), files: 0, bytes: 0 };
    m.files++;
    m.bytes += bytes;
    byBase.set(base, m);
  }
  return [...byBase.values()].sort((a, b) => a.label.localeCompare(b.label));
}

export async function listCachedModels(): Promise<CachedModel[]> {
  if (typeof caches === 'undefined') return [];
  const cache = await caches.open(MODEL_CACHE);
  const entries: { url: string; bytes: number }[] = [];
  for (const req of await cache.keys()) {
    const res = await cache.match(req);
    const len = Number(res?.headers.get('content-length'));
    entries.push({ url: req.url, bytes: Number.isFinite(len) && len > 0 ? len : ((await res?.blob())?.size ?? 0) });
  }
  return groupCached(entries);
}

export async function removeCachedModel(base: string): Promise<void> {
  const cache = await caches.open(MODEL_CACHE);
  for (const req of await cache.keys()) if (req.url.startsWith(base) && !req.url.slice(base.length).includes('/')) await cache.delete(req);
}
