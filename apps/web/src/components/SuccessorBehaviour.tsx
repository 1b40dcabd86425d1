/**
 * The behavioural check of the selected head: at the final comma of ordinal runs (" Monday, Tuesday,
 * Wednesday,") and matched random-word controls, its attention to the last item and its direct logit
 * attribution to the successor against the item itself.
 */
import type { SuccessorBehaviourView } from '../engine/protocol.js';
import { formatPercent, formatValue, headName } from '../lib/format.js';

export function SuccessorBehaviourTable({ view }: { view: SuccessorBehaviourView }) {
  const b = view.behaviour;
  const name = headName(view.layer, view.head);
  if (!b) return <p className="muted">Behavioural check: {view.error ?? 'not run'}</p>;
  return (
    <div className="successor-behaviour">
      <h3>Behavioural check of {name}</h3>
      <p>
        <strong>{b.holds ? 'Holds' : 'Does not hold'}</strong>: attention to the last item {formatPercent(b.attention)} (controls{' '}
        {formatPercent(b.controlAttention)}, needs ≥ {formatPercent(b.attentionThreshold)}); its direct logit attribution ranks the successor above the item on{' '}
        {formatPercent(b.successorWins)} of ordinal prompts (needs &gt; 50%); mean margin {formatValue(b.margin)} against {formatValue(b.controlMargin)} on the
        matched controls (same two tokens).
      </p>
      <table aria-label={`Behavioural check prompts of ${name}`}>
        <caption>At the final comma: attention to the last item; head output through the final norm's scale and W_U</caption>
        <thead>
          <tr>
            <th scope="col">prompt</th>
            <th scope="col">kind</th>
            <th scope="col">attention to last item</th>
            <th scope="col">DLA successor</th>
            <th scope="col">DLA item</th>
          </tr>
        </thead>
        <tbody>
          {b.prompts.map((p) => (
            <tr key={`${p.kind}${p.text}${p.successorText}`}>
              <td className="mono">“{p.text}”</td>
              <td>
                {p.kind} ({p.task})
              </td>
              <td>{formatPercent(p.attention)}</td>
              <td>
                {formatValue(p.successor)} “{p.successorText}”
              </td>
              <td>
                {formatValue(p.item)} “{p.itemText}”
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
