/** The head atlas's choices: which score colours the map, the scatter's axes, detector settings, the prompt set, the findings table's sort and filter. */
import { SETTINGS, type SettingValue } from '@headscope/analysis';
import { create } from 'zustand';

/** The session key of the chosen score (beside the settings' own keys in the session's `detectors`). */
const METRIC_KEY = 'atlas.metric';
const DEFAULT_METRIC = 'first_token_sink';

export type FindingColumn = 'kind' | 'head' | 'score' | 'threshold';

export interface AtlasState {
  /** Score key (registry) the map colours by. */
  metric: string;
  scatterX: string;
  scatterY: string;
  /** Settings changed from the registry's defaults, by key (checked by the worker's resolveSettings). */
  settings: Record<string, SettingValue>;
  /** Name of the uploaded prompt set the atlas runs over; null: the newest set. */
  promptSet: string | null;
  /** Findings table: kind shown ('all' or one kind) and sort. */
  kind: string;
  sort: { column: FindingColumn; descending: boolean };
  setMetric(m: string): void;
  setScatter(axis: 'x' | 'y', key: string): void;
  setSetting(key: string, value: SettingValue | undefined): void;
  setPromptSet(name: string | null): void;
  setKind(kind: string): void;
  sortBy(column: FindingColumn): void;
}

export const useAtlasStore = create<AtlasState>()((set) => ({
  metric: DEFAULT_METRIC,
  scatterX: 'previous_token',
  scatterY: 'induction',
  settings: {},
  promptSet: null,
  kind: 'all',
  sort: { column: 'score', descending: true },
  setMetric: (metric) => set({ metric }),
  setScatter: (axis, key) => set(axis === 'x' ? { scatterX: key } : { scatterY: key }),
  setSetting: (key, value) =>
    set((s) => {
      const settings = { ...s.settings };
      if (value === undefined) delete settings[key];
      else settings[key] = value;
      return { settings };
    }),
  setPromptSet: (promptSet) => set({ promptSet }),
  setKind: (kind) => set({ kind }),
  // A new column sorts descending (strongest first); the same column again flips the order.
  sortBy: (column) =>
    set((s) => ({ sort: { column, descending: s.sort.column === column ? !s.sort.descending : column === 'score' || column === 'threshold' } })),
}));

/**
 * The session's `detectors` with the atlas's part: its changed settings and the score; keys the atlas does not
 * own (other detectors') are kept from `previous`. Undefined while there is nothing to store.
 */
export function atlasDetectors(previous?: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const { settings, metric } = useAtlasStore.getState();
  const owned = (k: string) => k === METRIC_KEY || SETTINGS.some((s) => s.key === k);
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(previous ?? {}).filter(([k]) => !owned(k)));
  for (const [k, v] of Object.entries(settings)) if (typeof v !== 'number' || Number.isFinite(v)) out[k] = v;
  if (metric !== DEFAULT_METRIC) out[METRIC_KEY] = metric;
  return previous || Object.keys(out).length > 0 ? out : undefined;
}

/** Restores the atlas from a session's `detectors` (unknown keys and values of the wrong type are dropped; the registry checks ranges before a run). */
export function restoreAtlas(detectors: Readonly<Record<string, unknown>> | undefined): void {
  const settings: Record<string, SettingValue> = {};
  for (const spec of SETTINGS) {
    const v = detectors?.[spec.key];
    const kind = spec.kind === 'boolean' ? 'boolean' : spec.kind === 'choice' ? 'string' : 'number';
    if (typeof v === kind) settings[spec.key] = v as SettingValue;
  }
  const metric = detectors?.[METRIC_KEY];
  useAtlasStore.setState({ settings, metric: typeof metric === 'string' ? metric : DEFAULT_METRIC });
}
