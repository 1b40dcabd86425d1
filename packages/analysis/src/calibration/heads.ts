import { UnknownHeadError } from './errors.js';

export interface HeadRef {
  layer: number;
  head: number;
}

/** `1.5,2.11` (0-based layer.head) or `all` → the heads, each checked against the model's shape. */
export function parseHeads(text: string, nLayers: number, nHeads: number): HeadRef[] {
  const t = text.trim();
  if (t === 'all') return allHeads(nLayers, nHeads);
  const parts = t.split(',').map((p) => p.trim());
  if (t === '' || parts.some((p) => p === '')) throw new UnknownHeadError(text, nLayers, nHeads);
  const out: HeadRef[] = [];
  for (const p of parts) {
    const m = /^(\d+)\.(\d+)$/.exec(p);
    const layer = m ? Number(m[1]) : -1;
    const head = m ? Number(m[2]) : -1;
    if (!m || layer >= nLayers || head >= nHeads) throw new UnknownHeadError(p, nLayers, nHeads);
    if (!out.some((h) => h.layer === layer && h.head === head)) out.push({ layer, head });
  }
  return out;
}

export function allHeads(nLayers: number, nHeads: number): HeadRef[] {
  return Array.from({ length: nLayers * nHeads }, (_, i) => ({ layer: Math.floor(i / nHeads), head: i % nHeads }));
}

export function formatHeads(heads: readonly HeadRef[]): string {
  return heads.map((h) => `${h.layer}.${h.head}`).join(',');
}
