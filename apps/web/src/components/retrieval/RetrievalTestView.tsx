/**
 * One needle test: the decoded answer, which heads pointed at the needle at each step, and where a head
 * (the top retrieval head unless another is picked) looked at the answer step: its attention over every
 * prompt position, with the needle and the answer's tokens marked.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { engine } from '../../engine/client.js';
import type { RetrievalRequest, RetrievalTestRow, RetrievalTestView as View } from '../../engine/retrieval-protocol.js';
import { HEAD_COLOURS } from '../../lib/colour.js';
import { formatValue, headName, tokenLabel } from '../../lib/format.js';

interface Props {
  model: string;
  request: RetrievalRequest;
  tests: RetrievalTestRow[];
  needle: number;
  onNeedle: (needle: number) => void;
  head: { layer: number; head: number };
  nHeads: number;
}

const STRIP = { width: 640, height: 90 };

function AttentionStrip({ view }: { view: View }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const g = ref.current?.getContext('2d');
    if (!g) return;
    const n = view.row.length;
    const { width, height } = STRIP;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height);
    const x = (j: number) => (j / n) * width;
    // Needle (light) and answer (darker) spans behind the bars; Okabe–Ito orange.
    g.fillStyle = 'rgba(230, 159, 0, 0.25)';
    g.fillRect(x(view.needleSpan[0]), 0, Math.max(1, x(view.needleSpan[1]) - x(view.needleSpan[0])), height);
    g.fillStyle = 'rgba(213, 94, 0, 0.45)';
    g.fillRect(x(view.span[0]), 0, Math.max(1, x(view.span[1]) - x(view.span[0])), height);
    let max = 1e-9;
    for (const v of view.row) max = Math.max(max, v);
    g.fillStyle = HEAD_COLOURS[0]!;
    for (let j = 0; j < n; j++) {
      const h = (view.row[j]! / max) * (height - 4);
      g.fillRect(x(j), height - h, Math.max(1, width / n), h);
    }
  }, [view]);
  return (
    <canvas
      ref={ref}
      width={STRIP.width}
      height={STRIP.height}
      role="img"
      aria-label={`Attention of ${headName(view.layer, view.head)} over the ${view.row.length} keys at step ${view.step}; needle at tokens ${view.needleSpan[0]}–${view.needleSpan[1] - 1}, answer at ${view.span[0]}–${view.span[1] - 1}`}
    />
  );
}

function topKeys(view: View, k: number): { j: number; v: number }[] {
  return Array.from(view.row, (v, j) => ({ j, v }))
    .sort((a, b) => b.v - a.v)
    .slice(0, k);
}

export function RetrievalTestView({ model, request, tests, needle, onNeedle, head, nHeads }: Props) {
  const test = tests.find((t) => t.needleIndex === needle) ?? tests[0];
  const req = test ? { settings: request, index: test.index, layer: head.layer, head: head.head } : null;
  const q = useQuery({
    queryKey: ['engine', model, 'retrieval-test', JSON.stringify(req)],
    queryFn: () => engine().call('retrievalTest', req!),
    enabled: req !== null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  if (!test) return null;
  const view = q.data;
  const where = (j: number) =>
    view ? (j >= view.span[0] && j < view.span[1] ? 'answer' : j >= view.needleSpan[0] && j < view.needleSpan[1] ? 'needle' : '') : '';
  return (
    <section className="retrieval-test" aria-label="Needle test">
      <h3>
        Test: length {test.length}, depth {test.depth}%
      </h3>
      {tests.length > 1 && (
        <fieldset className="inline">
          <legend>Needle</legend>
          {tests.map((t) => (
            <button key={t.needleIndex} type="button" aria-pressed={t.needleIndex === test.needleIndex} onClick={() => onNeedle(t.needleIndex)}>
              needle {t.needleIndex + 1} {t.counted ? '✓' : '✗'}
            </button>
          ))}
        </fieldset>
      )}
      <p>
        Answer decoded: <q className="mono">{test.response}</q> · recall {formatValue(test.recall)} · {test.counted ? 'retrieved (counts)' : 'not retrieved'} ·{' '}
        {test.promptTokens} prompt tokens
      </p>
      <ol className="retrieval-steps" aria-label="Heads that pointed at the needle, per decode step">
        {test.steps.map((s, t) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: steps are positions in the decoded answer
          <li key={t}>
            <span className="mono">“{tokenLabel(s.text, 16)}”</span>:{' '}
            {s.heads.length ? s.heads.map((h) => headName(Math.floor(h / nHeads), h % nHeads)).join(', ') : 'no head on the needle'}
          </li>
        ))}
      </ol>
      {q.isError && (
        <p role="alert" className="error">
          {q.error.message}
        </p>
      )}
      {q.isFetching && <p aria-live="polite">Decoding the test again with {headName(head.layer, head.head)}’s attention rows…</p>}
      {view && (
        <figure className="retrieval-strip">
          <AttentionStrip view={view} />
          <figcaption>
            {headName(view.layer, view.head)} at decode step {view.step} (emitting “{tokenLabel(view.emitted[view.step] ?? '', 16)}”): attention over the prompt
            (bars, scaled to the largest); needle tokens {view.needleSpan[0]}–{view.needleSpan[1] - 1} shaded, answer tokens {view.span[0]}–{view.span[1] - 1}{' '}
            darker. Most attended:{' '}
            {topKeys(view, 5)
              .map(
                (k) =>
                  `${k.j} “${tokenLabel(view.tokens[k.j] ?? view.emitted[k.j - view.tokens.length] ?? '', 12)}” ${formatValue(k.v)}${where(k.j) ? ` (${where(k.j)})` : ''}`,
              )
              .join('; ')}
          </figcaption>
        </figure>
      )}
    </section>
  );
}
