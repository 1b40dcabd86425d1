/** The head atlas in sessions: changed detector settings and the chosen score go into format 3's optional `detectors`, and come back. */
import { beforeEach, describe, expect, it } from 'vitest';
import { applySession, currentState } from '../../src/session/app-state.js';
import { captureSession } from '../../src/session/bridge.js';
import { newSession, SessionSchema } from '../../src/session/schema.js';
import { useAtlasStore } from '../../src/state/atlas-store.js';

const MODEL = { kind: 'bundled' as const, id: 'tiny' };

beforeEach(() => useAtlasStore.setState({ settings: {}, metric: 'first_token_sink' }));

describe('the atlas in sessions', () => {
  it('leaves a session without detectors while the atlas has its defaults', () => {
    expect(captureSession(MODEL, currentState(), 1).detectors).toBeUndefined();
  });

  it('saves changed settings and the score, keeps other detectors’ keys, and restores them', () => {
    useAtlasStore.getState().setSetting('epsilon', 0.25);
    useAtlasStore.getState().setSetting('tl_mode', 'abs');
    useAtlasStore.getState().setMetric('induction');
    const previous = { ...newSession(MODEL, 'x', 1), detectors: { 'other.key': 3, epsilon: 0.9 } };
    const s = captureSession(MODEL, currentState(previous), 2, previous);
    expect(s.detectors).toEqual({ 'other.key': 3, epsilon: 0.25, tl_mode: 'abs', 'atlas.metric': 'induction' });
    expect(SessionSchema.parse(s)).toEqual(s);
    useAtlasStore.setState({ settings: {}, metric: 'entropy' });
    applySession({ ...s, detectors: { ...s.detectors, epsilon: 'wrong type', unknown_setting: 1 } });
    expect(useAtlasStore.getState().settings).toEqual({ tl_mode: 'abs' });
    expect(useAtlasStore.getState().metric).toBe('induction');
  });
});
