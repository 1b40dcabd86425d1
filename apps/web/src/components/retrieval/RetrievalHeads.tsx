/**
 * Per-head retrieval scores (mean over the tests that retrieved the answer) and the masking check: NIAH
 * accuracy with no mask, with the top K heads masked and with K random heads masked, as bars.
 */
import type { RetrievalOutcome } from '../../engine/retrieval-protocol.js';
import { formatPercent, headName } from '../../lib/format.js';
import { topHeadsOf } from '../../lib/retrieval-view.js';

interface HeadsProps {
  retrieval: Float64Array;
  nHeads: number;
  counted: number;
  tests: number;
  threshold: number;
  onPick: (head: { layer: number; head: number }) => void;
}

export function RetrievalHeads({ retrieval, nHeads, counted, tests, threshold, onPick }: HeadsProps) {
  if (tests === 0) return null;
  if (counted === 0)
    return (
      <p className="notice" role="status">
        No test counted: the model never retrieved the answer (ROUGE-1 recall of the answer words above 0.5) in {tests} test
        {tests === 1 ? '' : 's'}, so there is no evidence to score any head. The scores are not zero; they are unknown.
      </p>
    );
  const top = topHeadsOf(retrieval, nHeads, 8);
  const flagged = Array.from(retrieval).filter((v) => v > threshold).length;
  return (
    <table className="retrieval-heads" aria-label="Retrieval heads">
      <caption>
        Top heads by retrieval score over {counted} counted test{counted === 1 ? '' : 's'} of {tests}; {flagged} above the threshold {threshold}
      </caption>
      <thead>
        <tr>
          <th scope="col">head</th>
          <th scope="col">retrieval score</th>
          <th scope="col">finding</th>
        </tr>
      </thead>
      <tbody>
        {top.map((h) => (
          <tr key={`${h.layer}.${h.head}`}>
            <td>
              <button type="button" onClick={() => onPick(h)} aria-label={`View ${headName(h.layer, h.head)} in the test view`}>
                {headName(h.layer, h.head)}
              </button>
            </td>
            <td className="mono">{h.retrieval.toFixed(3)}</td>
            <td>{h.retrieval > threshold ? 'retrieval head' : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function MaskingChart({ masking }: { masking: NonNullable<RetrievalOutcome['masking']> }) {
  const heads = (hs: { layer: number; head: number }[]) => hs.map((h) => headName(h.layer, h.head)).join(', ');
  const bars = [
    { label: 'no mask', value: masking.baseline, detail: '' },
    { label: `top ${masking.top.heads.length} masked`, value: masking.top.accuracy, detail: heads(masking.top.heads) },
    { label: `${masking.random.heads.length} random masked`, value: masking.random.accuracy, detail: `${heads(masking.random.heads)} (seed ${masking.seed})` },
  ];
  return (
    <figure className="masking" aria-label="Masking check">
      <figcaption>Masking check: NIAH accuracy with heads made to attend uniformly</figcaption>
      <table>
        <tbody>
          {bars.map((b) => (
            <tr key={b.label}>
              <th scope="row">{b.label}</th>
              <td className="masking-bar-cell">
                <span className="masking-bar" style={{ width: `${Math.max(0.5, 100 * b.value)}%` }} />
              </td>
              <td className="mono" data-accuracy={b.value}>
                {formatPercent(b.value)}
              </td>
              <td className="muted">{b.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
