/**
 * The successor panel (methods.md §5) for the selected head: its succession score and per-task success, a
 * task × task matrix of its OV logits (the successor diagonal shows when the head works), the top-5
 * predicted successors of a token the user picks, and the behavioural check on ordinal prompts against
 * matched controls. Closed, it asks the engine nothing; open, the worker scores every head on the GPU once
 * per variant and reads back only the selected head's blocks.
 */
import { topSuccessors } from '@headscope/analysis';
import { useMemo, useRef, useState } from 'react';
import type { SuccessorBehaviourView, SuccessorHeadView, SuccessorOverview, SuccessorVariant } from '../engine/protocol.js';
import { useSuccessorBehaviour, useSuccessorHead, useSuccessorOverview } from '../hooks/successor-queries.js';
import { canvasBlob, download, fileStem } from '../lib/export.js';
import { formatPercent, formatValue, headName } from '../lib/format.js';
import { matrixLabel, type SuccessorExport, successorCsv, successorJson } from '../lib/successor-draw.js';
import { useViewStore } from '../state/view-store.js';
import { SuccessorBehaviourTable } from './SuccessorBehaviour.js';
import { SuccessorMatrixCanvas } from './SuccessorMatrixCanvas.js';

const VARIANTS: { value: SuccessorVariant; label: string }[] = [
  { value: 'mlp0', label: 'MLP0(LN(W_E[t])) (default)' },
  { value: 'mlp0+embedding', label: 'MLP0(LN(W_E[t])) + W_E[t]' },
  { value: 'embedding', label: 'W_E[t] only' },
];

interface Props {
  model: string;
  modelName: string;
}

export function SuccessorPanel({ model, modelName }: Props) {
  const [open, setOpen] = useState(false);
  const [variant, setVariant] = useState<SuccessorVariant>('mlp0');
  const locked = useViewStore((v) => v.head.locked);
  const lockHead = useViewStore((v) => v.lockHead);
  const overview = useSuccessorOverview(model, variant, open);
  const ready = open && overview.isSuccess;
  const detail = useSuccessorHead(model, variant, locked.layer, locked.head, ready);
  // The check costs one pass per prompt (for every head at once): it runs when asked, then serves every head.
  const [checkOn, setCheckOn] = useState(false);
  const [perTask, setPerTask] = useState(2);
  const check = useSuccessorBehaviour(model, locked.layer, locked.head, perTask, ready && checkOn && detail.isSuccess);
  const behaviour = check.query;
  const running = checkOn && behaviour.isFetching;
  const o = overview.data;
  return (
    <section className="panel successor" aria-label="Successor heads">
      <details open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>
          <h2>Successor heads</h2>
        </summary>
        <label>
          Effective embedding{' '}
          <select value={variant} onChange={(e) => setVariant(e.target.value as SuccessorVariant)}>
            {VARIANTS.map((v) => (
              <option key={v.value} value={v.value}>
                {v.label}
              </option>
            ))}
          </select>
        </label>
        <p aria-live="polite" className="muted">
          {overview.isFetching
            ? 'Scoring every head’s OV circuit on the GPU…'
            : detail.isFetching
              ? 'Reading the head’s OV logits…'
              : running
                ? `Running the behavioural check: ${check.progress ? `${check.progress.done} of ${check.progress.total} prompts` : 'starting'}…`
                : ''}
        </p>
        {overview.isError && (
          <p role="alert" className="error">
            {overview.error.message}
          </p>
        )}
        {o && (
          <>
            <p className="muted">Tasks in this tokenizer: {o.report}.</p>
            <p>
              Top head: <strong>{headName(o.top.layer, o.top.head)}</strong>, succession score {formatPercent(o.top.score)}{' '}
              <button type="button" onClick={() => lockHead({ layer: o.top.layer, head: o.top.head })}>
                Select the top head
              </button>
            </p>
          </>
        )}
        {detail.isError && (
          <p role="alert" className="error">
            {detail.error.message}
          </p>
        )}
        {o && (
          <p className="successor-check-controls">
            <label>
              Prompts per task{' '}
              <select value={perTask} onChange={(e) => setPerTask(Number(e.target.value))}>
                {[1, 2, 3].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>{' '}
            {running ? (
              <button
                type="button"
                onClick={() => {
                  setCheckOn(false);
                  check.cancel();
                }}
              >
                Cancel the behavioural check
              </button>
            ) : (
              <button type="button" onClick={() => setCheckOn(true)}>
                Run the behavioural check
              </button>
            )}{' '}
            <span className="muted">ordinal runs and as many matched controls, one pass each, every head at once</span>
          </p>
        )}
        {behaviour.isError && (
          <p role="alert" className="error">
            {behaviour.error.message}
          </p>
        )}
        {o && detail.data && detail.data.variant === o.variant && (
          <HeadDetail
            overview={o}
            view={detail.data}
            behaviour={behaviour.data?.layer === detail.data.layer && behaviour.data.head === detail.data.head ? behaviour.data : undefined}
            modelName={modelName}
          />
        )}
      </details>
    </section>
  );
}

function HeadDetail({
  overview,
  view,
  behaviour,
  modelName,
}: {
  overview: SuccessorOverview;
  view: SuccessorHeadView;
  behaviour: SuccessorBehaviourView | undefined;
  modelName: string;
}) {
  const [taskIndex, setTaskIndex] = useState(() =>
    Math.max(
      0,
      overview.tasks.findIndex((t) => t.id === 'days'),
    ),
  );
  const task = overview.tasks[taskIndex] ?? overview.tasks[0]!;
  const t = overview.tasks.indexOf(task);
  const [pickedRow, setPickedRow] = useState(0);
  const picked = Math.min(pickedRow, task.members.length - 1);
  const block = view.blocks[t]!;
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const name = headName(view.layer, view.head);
  const successorOf = useMemo(() => {
    const s = task.members.map(() => -1);
    for (const [i, j] of task.pairs) s[i] = j;
    return s;
  }, [task]);
  const matrix = useMemo(
    () => ({ values: block, n: task.members.length, successorOf, picked, labels: task.members.map((x) => x.text) }),
    [block, task, successorOf, picked],
  );
  const top = topSuccessors(task, block, picked, 5);
  const expected = successorOf[picked]! >= 0 ? task.members[successorOf[picked]!]! : undefined;
  const member = task.members[picked]!;

  const exportData = (): SuccessorExport => ({
    model: modelName,
    variant: view.variant,
    layer: view.layer,
    head: view.head,
    score: view.score,
    tasks: overview.tasks.map((x) => ({ id: x.id, label: x.label, success: view.tasks[x.id] ?? 0 })),
    task: { id: task.id, members: task.members, values: block },
    picked: { text: member.text, token: member.token, top },
    behaviour: behaviour?.behaviour ? { ...behaviour.behaviour } : behaviour?.error ? { error: behaviour.error } : null,
  });
  const stem = fileStem(modelName, `${name}_successor_${task.id}`);
  const exportText = (kind: 'csv' | 'json') => {
    const e = exportData();
    download(new Blob([kind === 'csv' ? successorCsv(e) : successorJson(e)], { type: kind === 'csv' ? 'text/csv' : 'application/json' }), `${stem}.${kind}`);
  };
  const exportPng = async () => {
    if (canvas.current) download(await canvasBlob(canvas.current), `${stem}.png`);
  };

  return (
    <div className="successor-detail">
      <h3>
        {name}: succession score {formatPercent(view.score)}
      </h3>
      <ul className="successor-bars" aria-label={`Success per task of ${name}`}>
        {overview.tasks.map((x) => {
          const v = view.tasks[x.id] ?? 0;
          return (
            <li key={x.id}>
              <span className="successor-bar-label">
                {x.label} ({x.pairs.length} pairs)
              </span>
              <span className="successor-bar" aria-hidden="true">
                <span style={{ width: `${100 * v}%` }} />
              </span>
              <span className="successor-bar-value">{formatPercent(v)}</span>
            </li>
          );
        })}
      </ul>
      <div className="successor-controls">
        <label>
          Task{' '}
          <select
            value={t}
            onChange={(e) => {
              setTaskIndex(Number(e.target.value));
              setPickedRow(0);
            }}
          >
            {overview.tasks.map((x, i) => (
              <option key={x.id} value={i}>
                {x.label} ({x.members.length} of {x.total})
              </option>
            ))}
          </select>
        </label>
        <label>
          Token{' '}
          <select value={picked} onChange={(e) => setPickedRow(Number(e.target.value))}>
            {task.members.map((m, i) => (
              <option key={m.token} value={i}>
                {m.text.trim()}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={exportPng}>
          Export PNG
        </button>
        <button type="button" onClick={() => exportText('csv')}>
          Export CSV
        </button>
        <button type="button" onClick={() => exportText('json')}>
          Export JSON
        </button>
      </div>
      <div className="successor-matrix-row">
        <figure className="successor-matrix">
          <SuccessorMatrixCanvas
            canvasRef={canvas}
            matrix={matrix}
            label={matrixLabel(task.label, view.layer, view.head, task.members.length)}
            onPick={setPickedRow}
          />
          <figcaption>
            Rows: token t; columns: the task's tokens as candidates (t included); colour: OV logit (viridis, legend below). Outlined in orange: succ(t); black:
            the picked row. ↑/↓ on the matrix move the picked row.
          </figcaption>
        </figure>
        <table aria-label={`Predicted successors of “${member.text}”`}>
          <caption>
            Top 5 after “{member.text}”{expected ? ` (successor: “${expected.text}”)` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">token</th>
              <th scope="col">OV logit</th>
            </tr>
          </thead>
          <tbody>
            {top.map((x, i) => (
              <tr key={x.token} className={expected && x.token === expected.token ? 'successor-hit' : undefined}>
                <td>{i + 1}</td>
                <td className="mono">“{x.text}”</td>
                <td>{formatValue(x.logit)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {behaviour && <SuccessorBehaviourTable view={behaviour} />}
    </div>
  );
}
