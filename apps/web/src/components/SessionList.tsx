/** Saved sessions: open, rename, duplicate and delete; damaged entries show their error and can be deleted. */
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { flushNow, openSaved, renamedCurrent, sessionStore } from '../session/controller.js';
import { LIMITS } from '../session/schema.js';
import type { SessionListEntry } from '../session/store.js';
import { useSessionUi } from '../state/session-ui.js';

const when = (t: number) => new Date(t).toLocaleString();

export function SessionList() {
  const { listVersion, id: current, ready } = useSessionUi();
  const list = useQuery({ queryKey: ['sessions', listVersion], queryFn: () => sessionStore().list(), enabled: ready, retry: false });
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = () => useSessionUi.setState((u) => ({ listVersion: u.listVersion + 1 }));
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
    refresh();
  };
  const rename = (id: string, name: string) =>
    act(async () => {
      const s = await sessionStore().rename(id, name.trim() || 'Untitled session');
      if (s && id === current) renamedCurrent(s);
      setRenaming(null);
    });

  const duplicate = (id: string, isCurrent: boolean) =>
    act(async () => {
      // The copy is of the latest state: save a pending change of the open session first.
      if (isCurrent) await flushNow();
      await sessionStore().duplicate(id);
    });

  const row = (e: SessionListEntry) => {
    if (!e.ok)
      return (
        <li key={e.id} className="session damaged">
          <span className="error">Damaged session: {e.error.message}</span>
          <button type="button" onClick={() => void act(() => sessionStore().remove(e.id))}>
            Delete
          </button>
        </li>
      );
    const isCurrent = e.id === current;
    return (
      <li key={e.id} className={`session${isCurrent ? ' current' : ''}`} aria-current={isCurrent ? 'true' : undefined}>
        {renaming?.id === e.id ? (
          <form
            className="row"
            onSubmit={(ev) => {
              ev.preventDefault();
              void rename(e.id, renaming.name);
            }}
          >
            <input
              type="text"
              aria-label="New name"
              maxLength={LIMITS.nameChars}
              value={renaming.name}
              onChange={(ev) => setRenaming({ id: e.id, name: ev.target.value })}
            />
            <button type="submit">Save name</button>
            <button type="button" onClick={() => setRenaming(null)}>
              Cancel
            </button>
          </form>
        ) : (
          <span className="session-title">
            {e.name}
            {isCurrent ? ' (open)' : ''}
          </span>
        )}
        <span className="muted">
          {e.model} · {when(e.updated)}
        </span>
        <span className="row">
          <button type="button" disabled={isCurrent} onClick={() => void openSaved(e.id).then(refresh)} aria-label={`Open ${e.name}`}>
            Open
          </button>
          <button type="button" onClick={() => setRenaming({ id: e.id, name: e.name })} aria-label={`Rename ${e.name}`}>
            Rename
          </button>
          <button type="button" onClick={() => void duplicate(e.id, isCurrent)} aria-label={`Duplicate ${e.name}`}>
            Duplicate
          </button>
          <button type="button" disabled={isCurrent} onClick={() => void act(() => sessionStore().remove(e.id))} aria-label={`Delete ${e.name}`}>
            Delete
          </button>
        </span>
      </li>
    );
  };

  return (
    <section className="panel sessions" aria-label="Sessions">
      <h2>Sessions</h2>
      {list.isError && (
        <p role="alert" className="error">
          The saved sessions could not be read: {list.error.message}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {list.data && list.data.length === 0 && <p className="muted">No saved sessions yet.</p>}
      <ul className="session-list" aria-label="Saved sessions">
        {(list.data ?? []).map(row)}
      </ul>
    </section>
  );
}
