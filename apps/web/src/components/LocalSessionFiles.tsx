/** A session made with a local model: the user picks the model's files again; they are checked before loading. */
import { useState } from 'react';
import { formatBytes } from '../lib/format.js';
import { checkLocalFiles } from '../session/bridge.js';
import { useModelStore } from '../state/model-store.js';
import { useSessionUi } from '../state/session-ui.js';

export function LocalSessionFiles() {
  const needs = useSessionUi((s) => s.needsFiles);
  const [message, setMessage] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  if (!needs) return null;
  const m = needs.model;
  const pick = async (files: File[]) => {
    if (!files.length) return;
    setChecking(true);
    setMessage(null);
    const r = await checkLocalFiles(m, files);
    setChecking(false);
    if (!r.ok) return setMessage(r.message);
    useModelStore.getState().select(r.ref);
    useSessionUi.setState({ needsFiles: null });
  };
  return (
    <section className="panel" aria-label="Session model files">
      <h2>This session's model</h2>
      <p>
        It used the local model <strong>{m.name}</strong>. Choose its files to load it (they are checked against the session first):
      </p>
      <ul className="muted">
        {m.files.map((f) => (
          <li key={f.name}>
            {f.name} ({formatBytes(f.size)})
          </li>
        ))}
      </ul>
      <label className="file">
        Choose the model's files <input type="file" multiple disabled={checking} onChange={(e) => void pick(Array.from(e.target.files ?? []))} />
      </label>
      {checking && <p aria-live="polite">Checking the files…</p>}
      {message && (
        <p role="alert" className="error">
          {message}
        </p>
      )}
    </section>
  );
}
