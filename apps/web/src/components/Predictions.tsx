/** The model's next-token distribution at the selected position: the top k with probabilities. */
import type { RunRef } from '../engine/queries.js';
import { useTopK } from '../engine/queries.js';
import { formatPercent, tokenLabel } from '../lib/format.js';
import { useViewStore } from '../state/view-store.js';

export function Predictions({ run, tokens }: { run: RunRef; tokens: readonly string[] }) {
  const query = useViewStore((s) => s.query);
  const T = run.run.tokens;
  const pos = Math.min(T - 1, query ?? T - 1);
  const top = useTopK(run, pos, 10);
  return (
    <section className="panel predictions" aria-label="Next-token predictions">
      <h2>
        Next token after {pos} “{tokenLabel(tokens[pos] ?? '', 20)}”
      </h2>
      {top.isError && <p role="alert">{top.error.message}</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">token</th>
            <th scope="col">id</th>
            <th scope="col">probability</th>
          </tr>
        </thead>
        <tbody>
          {(top.data ?? []).map((p, i) => (
            <tr key={p.id}>
              <td>{i + 1}</td>
              <td className="mono">“{tokenLabel(p.text, 20)}”</td>
              <td className="mono">{p.id}</td>
              <td>
                <span className="prob-bar" style={{ width: `${Math.max(1, p.prob * 120)}px` }} /> {formatPercent(p.prob)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
