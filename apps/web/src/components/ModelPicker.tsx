/**
 * Model choice: the bundled default (preselected and loaded on open), a hub repository, or local files;
 * the load's progress (bytes, rate, cancel), the ready model's facts, and cached downloads.
 */

import { supportedModelTypes } from '@headscope/models';
import { type UseQueryResult, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { bundledRef, modelKey, modelLabel } from '../engine/model-ref.js';
import type { LoadedSummary } from '../engine/protocol.js';
import { keys } from '../engine/queries.js';
import { formatBytes, formatRate } from '../lib/format.js';
import { useModelStore } from '../state/model-store.js';
import { useSessionUi } from '../state/session-ui.js';
import { CACHE_KEY, CachedModels } from './CachedModels.js';
import { HubPanel } from './HubPanel.js';
import { LocalPanel } from './LocalPanel.js';
import { ModelFacts } from './ModelFacts.js';

type Source = 'bundled' | 'hub' | 'local';

export function ModelPicker({ load, gpuReady }: { load: UseQueryResult<LoadedSummary, Error>; gpuReady: boolean }) {
  const { selected, active, progress, select, revert, hubRepo } = useModelStore();
  // A session waiting for its hub model opens on the hub source (the picker remounts when a session opens).
  const [source, setSource] = useState<Source>(() =>
    useSessionUi.getState().model?.kind === 'hub'
      ? 'hub'
      : selected.kind === 'bundled' && !hubRepo
        ? 'bundled'
        : selected.kind === 'bundled'
          ? 'hub'
          : selected.kind,
  );
  const [bundled] = useState(() => (selected.kind === 'bundled' ? selected : bundledRef('headscope-tiny', import.meta.env.BASE_URL)));
  const qc = useQueryClient();
  const loading = load.isFetching;
  const cancel = () => {
    void qc.cancelQueries({ queryKey: keys.load(modelKey(selected)) });
    revert();
  };
  // A finished hub download is in the cache now: refresh the list.
  useEffect(() => {
    if (load.data) void qc.invalidateQueries({ queryKey: CACHE_KEY });
  }, [load.data, qc]);
  const isActive = (k: string) => active !== null && modelKey(active) === k;

  return (
    <section className="panel model" aria-label="Model">
      <h2>Model</h2>
      <fieldset disabled={!gpuReady}>
        <legend>Source</legend>
        {(['bundled', 'hub', 'local'] as const).map((s) => (
          <label key={s}>
            <input type="radio" name="model-source" value={s} checked={source === s} onChange={() => setSource(s)} />{' '}
            {s === 'bundled' ? `Bundled (${bundled.kind === 'bundled' ? bundled.id : ''})` : s === 'hub' ? 'Hugging Face hub' : 'Files on this computer'}
          </label>
        ))}
      </fieldset>
      {source === 'bundled' && !isActive(modelKey(bundled)) && !(loading && modelKey(selected) === modelKey(bundled)) && (
        <button type="button" className="primary" disabled={!gpuReady || loading} onClick={() => select(bundled)}>
          Load the bundled model
        </button>
      )}
      {source !== 'bundled' && (
        <p className="muted">
          Supported model types (config.json <code>model_type</code>): {supportedModelTypes().join(', ')}.
        </p>
      )}
      {source === 'hub' && <HubPanel disabled={!gpuReady || loading} />}
      {source === 'local' && <LocalPanel disabled={!gpuReady || loading} />}

      <div className="load-status" aria-live="polite">
        {loading && (
          <div>
            <p>Loading {modelLabel(selected)}…</p>
            <progress aria-label="Model download" max={progress?.total ?? 1} value={progress ? progress.loaded : undefined} />
            <p className="muted">
              {progress
                ? `${formatBytes(progress.loaded)}${progress.total ? ` of ${formatBytes(progress.total)}` : ''} · ${formatRate(progress.bytesPerSecond)} · ${progress.file}`
                : 'Reading the model description…'}
            </p>
            <button type="button" onClick={cancel}>
              Cancel
            </button>
          </div>
        )}
        {load.isError && !loading && (
          <div role="alert" className="error">
            <p>
              Could not load {modelLabel(selected)}: {load.error.message}
            </p>
            <button type="button" onClick={() => void load.refetch()}>
              Try again
            </button>{' '}
            {active && (
              <button type="button" onClick={revert}>
                Back to {modelLabel(active)}
              </button>
            )}
          </div>
        )}
        {!loading && !load.isError && load.isPending && gpuReady && (
          <p>
            {modelLabel(selected)} is not loaded.{' '}
            <button type="button" onClick={() => void load.refetch()}>
              Load
            </button>
          </p>
        )}
      </div>
      {active && load.data && !loading && (
        <div role="status" aria-label="Active model">
          <p>
            <strong>Ready:</strong> {modelLabel(active)}
          </p>
          <details>
            <summary>About this model</summary>
            <ModelFacts m={load.data} />
          </details>
        </div>
      )}
      {source === 'hub' && <CachedModels />}
    </section>
  );
}
