/**
 * BertViz-style lines from each query token (left) to the keys it attends to (right), for the shown head
 * and any pinned heads, over a window of tokens around the selected query; with the per-query bar chart.
 */
import { useMemo, useState } from 'react';
import type { RunRef } from '../engine/queries.js';
import { useWindows } from '../engine/queries.js';
import type { HeadRef } from '../hooks/grid-navigation.js';
import { shown } from '../hooks/hover-lock.js';
import { HEAD_COLOURS } from '../lib/colour.js';
import { headName, tokenLabel } from '../lib/format.js';
import { useViewStore } from '../state/view-store.js';
import { AttentionBars } from './AttentionBars.js';

const SPAN = 32;
const ROW = 18;

export function TokenView({ run, tokens }: { run: RunRef; tokens: readonly string[] }) {
  const shownHead = useViewStore((s) => shown(s.head));
  const { compare, toggleCompare, query, setQuery } = useViewStore();
  const T = run.run.tokens;
  const q = Math.min(T - 1, query ?? T - 1);
  const [focus, setFocus] = useState<number | null>(null);
  const heads: HeadRef[] = useMemo(() => {
    const list = [shownHead, ...compare.filter((c) => c.layer !== shownHead.layer || c.head !== shownHead.head)];
    return list.slice(0, HEAD_COLOURS.length);
  }, [shownHead, compare]);
  const w0 = Math.max(0, Math.min(T - SPAN, q - SPAN / 2));
  const w1 = Math.min(T, w0 + SPAN);
  const windows = useWindows(run, heads, { q0: w0, q1: w1, k0: w0, k1: w1, stride: 1 });
  const n = w1 - w0;
  const height = n * ROW + 8;
  const active = focus ?? q;
  const pinned = compare.some((c) => c.layer === shownHead.layer && c.head === shownHead.head);

  return (
    <section className="panel token-view" aria-label="Token view">
      <div className="toolbar">
        <label>
          Query position{' '}
          <input type="range" min={0} max={T - 1} value={q} onChange={(e) => setQuery(Number(e.target.value))} aria-valuetext={`${q} “${tokens[q] ?? ''}”`} />
        </label>
        <span>
          {q} “{tokens[q]}”
        </span>
        <button type="button" onClick={() => toggleCompare(shownHead)}>
          {pinned ? 'Unpin' : 'Pin'} {headName(shownHead.layer, shownHead.head)}
        </button>
        <ul className="legend" aria-label="Heads in the token view">
          {heads.map((h, i) => (
            <li key={headName(h.layer, h.head)} style={{ color: HEAD_COLOURS[i] }}>
              ━ {headName(h.layer, h.head)}
            </li>
          ))}
        </ul>
      </div>
      <div className="token-lines">
        <svg width={360} height={height} role="img" aria-label={`Token attention lines for ${heads.map((h) => headName(h.layer, h.head)).join(', ')}`}>
          {windows.map((wq, hi) => {
            const w = wq.data;
            if (!w) return null;
            const lines = [];
            for (let r = 0; r < w.rows; r++) {
              const qi = w.q0 + r;
              if (focus !== null && qi !== active) continue;
              for (let c = 0; c < w.cols; c++) {
                const a = w.values[r * w.cols + c]!;
                if (a < 0.01) continue;
                lines.push(
                  <line
                    key={`${r}-${c}`}
                    x1={130}
                    y1={r * ROW + ROW / 2 + 4}
                    x2={230}
                    y2={c * ROW + ROW / 2 + 4}
                    stroke={HEAD_COLOURS[hi]}
                    strokeWidth={qi === active ? 2 : 1.2}
                    strokeOpacity={qi === active ? a : a * 0.35}
                  />,
                );
              }
            }
            return <g key={headName(w.layer, w.head)}>{lines}</g>;
          })}
          {Array.from({ length: n }, (_, i) => {
            const t = w0 + i;
            return (
              <g key={t}>
                {/* biome-ignore lint/a11y/noStaticElementInteractions: pointer shortcut; the range input above is the keyboard path */}
                <text
                  x={124}
                  y={i * ROW + ROW / 2 + 4}
                  textAnchor="end"
                  dominantBaseline="middle"
                  className={t === q ? 'tok selected' : 'tok'}
                  onMouseEnter={() => setFocus(t)}
                  onMouseLeave={() => setFocus(null)}
                  onClick={() => setQuery(t)}
                >
                  {tokenLabel(tokens[t] ?? '', 14)} {t}
                </text>
                <text x={236} y={i * ROW + ROW / 2 + 4} dominantBaseline="middle" className="tok">
                  {t} {tokenLabel(tokens[t] ?? '', 14)}
                </text>
              </g>
            );
          })}
        </svg>
        <AttentionBars run={run} heads={heads} query={active} tokens={tokens} />
      </div>
      {w0 > 0 && (
        <p className="muted">
          Showing tokens {w0}–{w1 - 1} around the selected query; the bar chart shows every key.
        </p>
      )}
    </section>
  );
}
