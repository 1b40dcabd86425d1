import { beforeEach, describe, expect, it } from 'vitest';
import { bundledRef } from '../../src/engine/model-ref.js';
import type { LoadedSummary } from '../../src/engine/protocol.js';
import { applyPendingSelection, applySession, currentState } from '../../src/session/app-state.js';
import { captureSession, sameContent } from '../../src/session/bridge.js';
import { newSession, type Session } from '../../src/session/schema.js';
import { useModelStore } from '../../src/state/model-store.js';
import { usePromptStore } from '../../src/state/prompt-store.js';
import { useSessionUi } from '../../src/state/session-ui.js';
import { useViewStore } from '../../src/state/view-store.js';

const info = (nLayers: number, nHeads: number, addBos: boolean): LoadedSummary => ({
  name: 'm',
  family: 'llama',
  modelType: 'llama',
  nLayers,
  nHeads,
  nKvHeads: nHeads,
  dModel: 16,
  vocabSize: 100,
  nCtx: 64,
  parameters: 1,
  checkpointBytes: 1,
  fp32Bytes: 1,
  captureBytes: 1,
  captureTokens: 1,
  largestTensor: { name: 'w', bytes: 1 },
  fits: { ok: true },
  addBos,
  bosTokenId: addBos ? 1 : null,
});

const tiny = bundledRef('tiny', '/');

function session(over: Partial<Session> = {}): Session {
  return {
    ...newSession({ kind: 'bundled', id: 'tiny' }, 'a b c', 1000, 'Mine'),
    selection: { layer: 1, head: 3, query: 2, compare: [{ layer: 0, head: 1 }] },
    view: { active: 'heatmap', metric: 'entropy', heatmap: { scale: 'log', scheme: 'cividis', foldFirst: true, zoom: null } },
    ...over,
  };
}

beforeEach(() => {
  useModelStore.setState({ selected: tiny, active: tiny, activeInfo: info(2, 4, true), hubRepo: '', hubEndpoint: null });
  usePromptStore.setState({ text: 'x', bos: null, submitted: null });
  useViewStore.setState({ head: { locked: { layer: 0, head: 0 }, hover: null }, query: null, compare: [], zoom: null });
  useSessionUi.setState({ needsFiles: null, model: null });
});

describe('sessions ↔ the app stores', () => {
  it('the heatmap zoom window is saved and restored', () => {
    const zoom = { x0: 2, x1: 6.5, y0: 3, y1: 9 };
    applySession(session({ view: { active: 'heatmap', metric: 'entropy', heatmap: { scale: 'log', scheme: 'cividis', foldFirst: true, zoom } } }));
    expect(useViewStore.getState().zoom).toEqual(zoom);
    expect(currentState().view.heatmap.zoom).toEqual(zoom);
    useViewStore.getState().setZoom(null);
    expect(currentState().view.heatmap.zoom).toBeNull();
  });

  it('opens a session of the active model at once: prompt, BOS default, selection, view, and a run', () => {
    applySession(session());
    expect(usePromptStore.getState()).toMatchObject({ text: 'a b c', bos: null, submitted: { text: 'a b c', bos: true } });
    expect(useViewStore.getState()).toMatchObject({
      head: { locked: { layer: 1, head: 3 }, hover: null },
      query: 2,
      compare: [{ layer: 0, head: 1 }],
      metric: 'entropy',
      scale: 'log',
      scheme: 'cividis',
      foldFirst: true,
    });
    expect(useSessionUi.getState()).toMatchObject({ name: 'Mine', model: { kind: 'bundled', id: 'tiny' } });
  });

  it('captures what it opened (the round trip is the same session)', () => {
    const s = session({ prompts: ['first', 'a b c'], promptIndex: 1, bos: false });
    applySession(s);
    const again = captureSession(s.model, currentState(s), 2000, s);
    expect(sameContent(again, s)).toBe(true);
    usePromptStore.getState().setText('edited');
    expect(currentState(s).prompts).toEqual(['first', 'edited']);
  });

  it('selects another bundled model and waits for it; the selection is fitted to its size', () => {
    applySession(session({ model: { kind: 'bundled', id: 'other' } }));
    expect(useModelStore.getState().selected).toEqual(bundledRef('other', '/'));
    expect(usePromptStore.getState().submitted).toBeNull();
    useViewStore.getState().fit(2, 2);
    applyPendingSelection(2, 2, null);
    expect(useViewStore.getState()).toMatchObject({ head: { locked: { layer: 0, head: 0 } }, query: 2, compare: [{ layer: 0, head: 1 }] });
  });

  it('only fills the hub field for a hub model, and asks for the files of a local one', () => {
    applySession(session({ model: { kind: 'hub', repo: 'owner/name', revision: 'v1' } }));
    expect(useModelStore.getState()).toMatchObject({ hubRepo: 'owner/name@v1', selected: tiny });
    const local = { kind: 'local' as const, name: 'mine', sha256: 'a'.repeat(64), files: [{ name: 'config.json', size: 2 }] };
    applySession(session({ model: local }));
    expect(useSessionUi.getState().needsFiles).toEqual({ model: local });
    expect(useModelStore.getState().selected).toBe(tiny);
  });
});
