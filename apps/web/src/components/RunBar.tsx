/** The current run: what ran, how long it took, and the export of every captured map as safetensors. */
import { useState } from 'react';
import { engine } from '../engine/client.js';
import type { RunRef } from '../engine/queries.js';
import { download, fileStem } from '../lib/export.js';

export function RunBar({ run, modelName }: { run: RunRef; modelName: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const r = run.run;
  const exportAll = async () => {
    setBusy(true);
    setError(null);
    try {
      const bytes = await engine().call('captures', { runId: r.runId });
      download(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), `${fileStem(modelName, 'attention')}.safetensors`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="runbar" role="status" aria-label="Run">
      <span>
        {r.tokens} tokens · {r.nLayers} layers × {r.nHeads} heads · forward pass {r.forwardMs.toFixed(0)} ms, with reductions {r.ms.toFixed(0)} ms
      </span>
      <button type="button" onClick={exportAll} disabled={busy} title="input_ids i32 [T], logits f32 [T,V], attn.<layer> f32 [H,T,T]">
        {busy ? 'Exporting…' : 'All maps (safetensors)'}
      </button>
      {error && <span className="error">{error}</span>}
    </div>
  );
}
