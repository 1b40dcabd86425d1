/**
 * The findings (kind, head, score, threshold, evidence): sortable by each column header, filtered by kind.
 * A row click (or Enter on a focused row) opens that head's heatmap in the workbench. The CSV export writes
 * the rows as shown.
 */
import type { Finding } from '@headscope/analysis';
import { FINDING_COLUMNS, findingRows, findingRowsCsv } from '../../lib/atlas-view.js';
import { download, fileStem } from '../../lib/export.js';
import { type FindingColumn, useAtlasStore } from '../../state/atlas-store.js';

interface Props {
  findings: readonly Finding[];
  model: string;
  onOpen(layer: number, head: number): void;
}

export function FindingsTable({ findings, model, onOpen }: Props) {
  const kind = useAtlasStore((s) => s.kind);
  const sort = useAtlasStore((s) => s.sort);
  const setKind = useAtlasStore((s) => s.setKind);
  const sortBy = useAtlasStore((s) => s.sortBy);
  const kinds = [...new Set(findings.map((f) => f.kind))];
  const rows = findingRows(findings, kinds.includes(kind as Finding['kind']) ? kind : 'all', sort);
  return (
    <section className="findings" aria-label="Findings section">
      <div className="toolbar">
        <label>
          Show{' '}
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="all">all kinds ({findings.length})</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k} ({findings.filter((f) => f.kind === k).length})
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => download(new Blob([findingRowsCsv(rows)], { type: 'text/csv' }), `${fileStem(model, 'findings')}.csv`)}>
          Findings CSV
        </button>
      </div>
      <div className="table-scroll">
        <table aria-label="Findings" className="findings-table">
          <thead>
            <tr>
              {FINDING_COLUMNS.map((c) => {
                const sorted = sort.column === c.key;
                return (
                  <th key={c.key} scope="col" aria-sort={sorted ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                    {c.key === 'evidence' ? (
                      c.label
                    ) : (
                      <button type="button" className="link" onClick={() => sortBy(c.key as FindingColumn)}>
                        {c.label}
                        {sorted ? (sort.descending ? ' ▼' : ' ▲') : ''}
                      </button>
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr
                key={`${r.finding.kind}:${r.cells[1]}`}
                tabIndex={0}
                className="clickable"
                title={`Open the heatmap of ${r.cells[1]}`}
                onClick={() => onOpen(r.finding.layer, r.finding.head)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    onOpen(r.finding.layer, r.finding.head);
                  }
                }}
              >
                {r.cells.map((c, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: fixed columns
                  <td key={i}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <p className="muted small">No head is over its threshold.</p>}
      </div>
    </section>
  );
}
