/**
 * The app's stores ↔ a session: what `captureSession` needs from the prompt and view stores, and opening a
 * session into them (model by `modelPlan`, prompt, BOS, selection, metric and heatmap settings, then a run).
 */
import { bundledRef, modelKey } from '../engine/model-ref.js';
import { atlasDetectors, restoreAtlas } from '../state/atlas-store.js';
import { calibrationSettings, DEFAULT_CALIBRATION, isDefaultCalibration, useCalibrationStore } from '../state/calibration-store.js';
import { useModelStore } from '../state/model-store.js';
import { usePromptStore } from '../state/prompt-store.js';
import { useSessionUi } from '../state/session-ui.js';
import { useViewStore } from '../state/view-store.js';
import { modelPlan, type SessionState } from './bridge.js';
import type { Session } from './schema.js';

/** The stores' state in a session's form; `previous` keeps its other prompts (the editor holds the selected one). */
export function currentState(previous?: Session | null): SessionState {
  const p = usePromptStore.getState();
  const v = useViewStore.getState();
  const calibration = calibrationSettings();
  const detectors = atlasDetectors(previous?.detectors);
  const prompts = previous ? [...previous.prompts] : [p.text];
  const promptIndex = previous ? Math.min(previous.promptIndex, prompts.length - 1) : 0;
  prompts[promptIndex] = p.text;
  return {
    prompts,
    promptIndex,
    bos: p.bos,
    selection: { layer: v.head.locked.layer, head: v.head.locked.head, query: v.query, compare: v.compare.map((h) => ({ ...h })) },
    view: {
      active: previous?.view.active ?? 'heatmap',
      metric: v.metric,
      heatmap: { scale: v.scale, scheme: v.scheme, foldFirst: v.foldFirst, zoom: v.zoom ? { ...v.zoom } : null },
    },
    // A session that never used the panel stays without it (and so round-trips unchanged).
    ...(previous?.calibration || !isDefaultCalibration(calibration) ? { calibration } : {}),
    // Likewise the atlas: its settings and score only once they were changed.
    ...(detectors ? { detectors: detectors as Session['detectors'] } : {}),
  };
}

type Selection = Session['selection'];

/** A selection waiting for its model to load (applied after the view store fits the new model). */
let pendingSelection: Selection | null = null;

function setSelection(sel: Selection, nLayers: number, nHeads: number): void {
  const inside = (h: { layer: number; head: number }) => h.layer < nLayers && h.head < nHeads;
  const locked = inside(sel) ? { layer: sel.layer, head: sel.head } : { layer: 0, head: 0 };
  useViewStore.setState({ head: { locked, hover: null }, query: sel.query, compare: sel.compare.filter(inside).map((h) => ({ ...h })) });
}

/** Called by the app once a model's dimensions are known (after `fit`): restores a selection that waited for it. */
export function applyPendingSelection(nLayers: number, nHeads: number, tokens: number | null): void {
  const sel = pendingSelection;
  pendingSelection = null;
  if (sel) setSelection({ ...sel, query: tokens !== null && sel.query !== null && sel.query >= tokens ? null : sel.query }, nLayers, nHeads);
}

/**
 * Puts a session into the stores. A bundled model is selected (and loads); a hub model only fills the hub field
 * (the download waits for a click); a local model waits for its files (`needsFiles`). The prompt runs as soon
 * as its model is active.
 */
export function applySession(s: Session): void {
  const ms = useModelStore.getState();
  const plan = modelPlan(s.model, (id) => bundledRef(id, import.meta.env.BASE_URL), ms.hubEndpoint);
  const text = s.prompts[s.promptIndex] ?? s.prompts[0] ?? '';
  const activeKey = ms.active ? modelKey(ms.active) : null;
  let same = false;
  if (plan.kind === 'ref') {
    same = activeKey === modelKey(plan.ref);
    if (modelKey(ms.selected) !== modelKey(plan.ref)) ms.select(plan.ref);
  } else if (plan.kind === 'hub') {
    same = activeKey === modelKey(plan.ref);
    ms.setHubRepo(plan.repo);
  }
  const h = s.view.heatmap;
  useViewStore.setState({ metric: s.view.metric, scale: h.scale, scheme: h.scheme, foldFirst: h.foldFirst, zoom: h.zoom ? { ...h.zoom } : null });
  usePromptStore.setState({ text, bos: s.bos });
  useCalibrationStore.getState().replace(s.calibration ?? DEFAULT_CALIBRATION);
  restoreAtlas(s.detectors);
  useSessionUi.setState((u) => ({
    name: s.name,
    model: s.model,
    needsFiles: s.model.kind === 'local' ? { model: s.model } : null,
    opened: u.opened + 1,
  }));
  const info = useModelStore.getState().activeInfo;
  if (same && info) {
    pendingSelection = null;
    setSelection(s.selection, info.nLayers, info.nHeads);
    usePromptStore.getState().submit({ text, bos: s.bos ?? info.addBos });
  } else {
    // The app submits the prompt and applies the selection once the session's model is active.
    pendingSelection = s.selection;
    usePromptStore.setState({ submitted: null });
    useViewStore.setState({ head: { locked: { layer: s.selection.layer, head: s.selection.head }, hover: null }, query: s.selection.query });
  }
}
