/** The detector settings of the registry as a form: each input shows its range; a value outside it is named with the fix and blocks the run. */
import { DEFAULT_SETTINGS, SETTINGS, type SettingSpec } from '@headscope/analysis';
import { useAtlasStore } from '../../state/atlas-store.js';

function SettingInput({ spec }: { spec: SettingSpec }) {
  const value = useAtlasStore((s) => s.settings[spec.key]) ?? DEFAULT_SETTINGS[spec.key]!;
  const setSetting = useAtlasStore((s) => s.setSetting);
  const set = (v: string | number | boolean) => setSetting(spec.key, v === spec.default ? undefined : v);
  if (spec.kind === 'boolean')
    return (
      <label title={spec.description}>
        <input type="checkbox" checked={value === true} onChange={(e) => set(e.target.checked)} /> {spec.label}
      </label>
    );
  if (spec.kind === 'choice')
    return (
      <label title={spec.description}>
        {spec.label}{' '}
        <select value={String(value)} onChange={(e) => set(e.target.value)}>
          {spec.choices!.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </label>
    );
  return (
    <label title={`${spec.description} (${spec.min} … ${spec.max})`}>
      {spec.label}{' '}
      <input
        type="number"
        value={String(value)}
        min={spec.min}
        max={spec.max}
        step={spec.kind === 'integer' ? 1 : 'any'}
        onChange={(e) => set(e.target.value.trim() === '' ? Number.NaN : Number(e.target.value))}
      />
    </label>
  );
}

export function AtlasSettings({ error }: { error: string | null }) {
  const changed = Object.keys(useAtlasStore((s) => s.settings)).length;
  return (
    <details className="atlas-settings">
      <summary>Detector settings{changed > 0 ? ` (${changed} changed)` : ''}</summary>
      <div className="settings-grid">
        {SETTINGS.map((s) => (
          <SettingInput key={s.key} spec={s} />
        ))}
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </details>
  );
}
