/** A hub repository: check its size and fit before downloading, then download and load it. */
import { useState } from 'react';
import type { ModelRef } from '../engine/protocol.js';
import { useInspect } from '../engine/queries.js';
import { useModelStore } from '../state/model-store.js';
import { ModelFacts } from './ModelFacts.js';

const REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*(@\S+)?$/;

export function HubPanel({ disabled }: { disabled: boolean }) {
  const { hubRepo, hubEndpoint, setHubRepo, select } = useModelStore();
  const [checked, setChecked] = useState<ModelRef | null>(null);
  const info = useInspect(checked);
  const valid = REPO.test(hubRepo.trim());
  return (
    <form
      className="hub"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) setChecked({ kind: 'hub', repo: hubRepo.trim(), ...(hubEndpoint ? { endpoint: hubEndpoint } : {}) });
      }}
    >
      <label>
        Hub repository id{' '}
        <input
          type="text"
          value={hubRepo}
          placeholder="owner/name@revision"
          spellCheck={false}
          onChange={(e) => {
            setHubRepo(e.target.value);
            setChecked(null);
          }}
        />
      </label>
      <button type="submit" disabled={!valid || disabled}>
        Check model
      </button>
      {!valid && hubRepo.trim() !== '' && <p className="error">Write it as owner/name or owner/name@revision.</p>}
      {info.isFetching && <p aria-live="polite">Reading config.json and the safetensors headers…</p>}
      {info.isError && (
        <p role="alert" className="error">
          {info.error.message}
        </p>
      )}
      {info.data && checked && (
        <>
          <ModelFacts m={info.data} />
          <button type="button" className="primary" disabled={disabled || !info.data.fits.ok} onClick={() => select(checked)}>
            Download and load
          </button>
        </>
      )}
    </form>
  );
}
