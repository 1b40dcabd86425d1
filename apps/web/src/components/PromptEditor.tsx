/** The prompt: an editor, its tokens as chips with their ids, the BOS switch and Run (also Ctrl/⌘+Enter). */
import { useDeferredValue } from 'react';
import type { LoadedSummary } from '../engine/protocol.js';
import { useEncode } from '../engine/queries.js';
import type { RunCostView } from '../engine/run-cost-view.js';
import { formatBytes, tokenLabel } from '../lib/format.js';
import { usePromptStore } from '../state/prompt-store.js';
import { useViewStore } from '../state/view-store.js';

export function PromptEditor({ model, info, running }: { model: string | null; info: LoadedSummary | null; running: boolean }) {
  const { text, bos: bosSetting, setText, setBos, submit, submitted } = usePromptStore();
  const setQuery = useViewStore((s) => s.setQuery);
  const bos = bosSetting ?? info?.addBos ?? false;
  const deferred = useDeferredValue(text);
  const encoded = useEncode(model, deferred, bos, true);
  const tokens = encoded.data;
  const tooLong = info !== null && tokens !== undefined && tokens.ids.length > info.nCtx;
  // The estimate belongs to the tokens shown; while typing, the previous tokens' estimate is kept (placeholder).
  const cost = tokens?.cost;
  const tooLarge = cost?.refusal !== undefined && !encoded.isPlaceholderData;
  const canRun = model !== null && text.trim() !== '' && !tooLong && !tooLarge;
  const run = () => {
    if (!canRun) return;
    setQuery(null);
    submit({ text, bos });
  };
  const isCurrent = submitted?.text === text && submitted.bos === bos;

  return (
    <section className="panel prompt" aria-label="Prompt editor">
      <h2>Prompt</h2>
      <textarea
        aria-label="Prompt"
        value={text}
        rows={4}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            run();
          }
        }}
      />
      <div className="row">
        <label title={info?.bosTokenId === null ? 'This model has no BOS token' : undefined}>
          <input
            type="checkbox"
            role="switch"
            aria-checked={bos}
            checked={bos}
            disabled={info?.bosTokenId === null}
            onChange={(e) => setBos(e.target.checked)}
          />{' '}
          Prepend BOS
        </label>
        <button type="button" className="primary" onClick={run} disabled={!canRun || running} aria-keyshortcuts="Control+Enter">
          {running ? 'Running…' : 'Run'}
        </button>
        <span className="muted">
          {tokens ? `${tokens.ids.length} tokens` : ''}
          {info ? ` / ${info.nCtx}` : ''}
          {isCurrent ? '' : submitted ? ' · edited since the last run' : ''}
        </span>
      </div>
      {tooLong && (
        <p role="alert" className="error">
          The prompt has {tokens!.ids.length} tokens, but the model's context holds {info!.nCtx}. Shorten it by at least {tokens!.ids.length - info!.nCtx}{' '}
          tokens.
        </p>
      )}
      {cost && !tooLong && <RunCost cost={cost} />}
      {encoded.isError && (
        <p role="alert" className="error">
          {encoded.error.message}
        </p>
      )}
      <ol className="chips" aria-label="Tokens">
        {(tokens?.ids ?? []).slice(0, 2048).map((id, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: positions are the identity of tokens in a prompt
          <li key={i} className="chip" title={`position ${i}, id ${id}`}>
            <span className="chip-text">{tokenLabel(tokens!.texts[i] ?? '', 16)}</span>
            <span className="chip-id">{id}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The run's GPU memory before it runs, or the engine's refusal and its fix. */
function RunCost({ cost }: { cost: RunCostView }) {
  if (cost.refusal)
    return (
      <p role="alert" className="error" aria-label="Run cost">
        {cost.refusal.message} {cost.refusal.fix}
      </p>
    );
  return (
    <p role="note" className="muted run-cost" aria-label="Run cost">
      This run adds {formatBytes(cost.totalBytes)} of GPU memory: maps {formatBytes(cost.mapsBytes)} ({cost.mapLayers} layers), activations{' '}
      {formatBytes(cost.activationBytes)}, {cost.logitsBytes > 0 ? `logits ${formatBytes(cost.logitsBytes)}` : 'logits made per position when shown'}; largest
      buffer {formatBytes(cost.largest.bytes)} of the {formatBytes(cost.limitBytes)} this GPU allows.
    </p>
  );
}
