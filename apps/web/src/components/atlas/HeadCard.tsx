/** Everything the atlas knows about one head: every score (mean ± spread over prompts), its findings, hidden-sink tokens and top attended tokens. */
import type { AtlasResult } from '@headscope/analysis';
import { availableScores, rowOf } from '../../lib/atlas-view.js';
import { formatValue, headName, tokenLabel } from '../../lib/format.js';

interface Props {
  result: AtlasResult;
  layer: number;
  head: number;
  onOpen(layer: number, head: number): void;
}

export function HeadCard({ result: r, layer, head, onOpen }: Props) {
  const row = rowOf(r, layer, head);
  if (!row) return null;
  const name = headName(layer, head);
  const findings = r.findings.filter((f) => f.layer === layer && f.head === head);
  const sinkTokens = new Map<string, number>();
  for (const s of row.hiddenSinks) sinkTokens.set(s.token, (sinkTokens.get(s.token) ?? 0) + 1);
  return (
    <section className="panel head-card" aria-label="Head card">
      <h3>
        Head {name}
        {findings.length > 0 && <span className="badges"> {findings.map((f) => f.kind).join(' · ')}</span>}
      </h3>
      <table aria-label={`Scores of ${name}`} className="card-scores">
        <thead>
          <tr>
            <th scope="col">score</th>
            <th scope="col">value</th>
            <th scope="col">± sd over prompts</th>
          </tr>
        </thead>
        <tbody>
          {availableScores(r).map((s) => (
            <tr key={s.key} title={s.description}>
              <th scope="row">{s.label}</th>
              <td>{formatValue(row.scores[s.key]!)}</td>
              <td>{s.source === 'prompts' ? formatValue(row.spread[s.key] ?? 0) : s.source}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Hidden-sink tokens</h4>
      {sinkTokens.size === 0 ? (
        <p className="muted small">None above the threshold.</p>
      ) : (
        <ul className="token-list" aria-label={`Hidden-sink tokens of ${name}`}>
          {[...sinkTokens]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 8)
            .map(([t, n]) => (
              <li key={t}>
                <span className="mono">“{tokenLabel(t)}”</span> ×{n}
              </li>
            ))}
        </ul>
      )}
      <h4>Top attended tokens</h4>
      <ul className="token-list" aria-label={`Top attended tokens of ${name}`}>
        {row.topTokens.map((t) => (
          <li key={`${t.prompt}:${t.position}`}>
            <span className="mono">“{tokenLabel(t.token)}”</span> prompt {t.prompt + 1}, position {t.position}: {formatValue(t.imp)}
          </li>
        ))}
      </ul>
      {row.successorTasks && (
        <p className="small">
          Successor tasks:{' '}
          {Object.entries(row.successorTasks)
            .map(([k, v]) => `${k} ${formatValue(v)}`)
            .join(', ')}
        </p>
      )}
      <button type="button" onClick={() => onOpen(layer, head)}>
        Open heatmap of {name}
      </button>
    </section>
  );
}
