import type { Intervention } from '@headscope/models';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { migrateV1, parseSession } from '../../src/session/migrate.js';
import { fromIntervention, newSession, SESSION_VERSION, SessionSchema, sessionModelLabel, toIntervention } from '../../src/session/schema.js';
import { interventionArb, sessionArb } from './arbitrary.js';

const v1 = {
  version: 1,
  name: 'Old one',
  model: 'hub:openai-community/gpt2@main',
  prompt: 'Hello <b>world</b>',
  bos: true,
  layer: 3,
  head: 5,
  query: 7,
  scale: 'log',
  scheme: 'cividis',
  foldFirst: true,
  savedAt: 1_650_000_000_000,
};

describe('session schema', () => {
  it('accepts every generated session unchanged', () => {
    fc.assert(
      fc.property(sessionArb, (s) => {
        expect(parseSession(JSON.parse(JSON.stringify(s)))).toEqual({ ok: true, session: s });
      }),
    );
  });

  it('accepts a new session and labels its model', () => {
    const s = newSession({ kind: 'hub', repo: 'EleutherAI/pythia-14m', revision: 'main' }, 'x', 5);
    expect(SessionSchema.safeParse(s).success).toBe(true);
    expect(sessionModelLabel(s.model)).toBe('EleutherAI/pythia-14m@main');
    expect(sessionModelLabel({ kind: 'local', name: 'mine', sha256: 'a'.repeat(64), files: [{ name: 'model.safetensors', size: 1 }] })).toBe('mine');
  });

  it('refuses out-of-range values, each at its path', () => {
    const s = newSession({ kind: 'bundled', id: 'headscope-tiny' }, 'x', 5);
    const bad: [unknown, (string | number)[]][] = [
      [{ ...s, selection: { ...s.selection, head: 1.5 } }, ['selection', 'head']],
      [{ ...s, selection: { ...s.selection, query: 1e9 } }, ['selection', 'query']],
      [{ ...s, view: { ...s.view, heatmap: { ...s.view.heatmap, scale: 'cubic' } } }, ['view', 'heatmap', 'scale']],
      [{ ...s, view: { ...s.view, heatmap: { ...s.view.heatmap, zoom: { x0: 5, x1: 2, y0: 0, y1: 1 } } } }, ['view', 'heatmap', 'zoom']],
      [{ ...s, model: { kind: 'local', name: 'm', sha256: 'xyz', files: [{ name: 'a', size: 1 }] } }, ['model', 'sha256']],
      [{ ...s, model: { kind: 'bundled', id: '../secret' } }, ['model', 'id']],
      [{ ...s, model: { kind: 'hub', repo: 'a/b', revision: 'main/../../x' } }, ['model', 'revision']],
      [{ ...s, interventions: [{ kind: 'headScale', layer: 0, head: 0, scale: 1e9 }] }, ['interventions', 0, 'scale']],
      [{ ...s, interventions: [{ kind: 'exfiltrate', layer: 0, head: 0 }] }, ['interventions', 0, 'kind']],
      [{ ...s, name: 'n'.repeat(201) }, ['name']],
      [{ ...s, created: -1 }, ['created']],
      [{ ...s, version: '2' }, ['version']],
    ];
    for (const [value, path] of bad) {
      const r = parseSession(value);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ kind: 'schema', path });
    }
  });

  it('reports unknown future versions as such', () => {
    for (const version of [SESSION_VERSION + 1, 99, 1_000_000]) {
      const r = parseSession({ version, anything: true });
      expect(r).toMatchObject({ ok: false, error: { kind: 'futureVersion', version, supported: SESSION_VERSION } });
    }
    expect(parseSession({ version: 0 })).toMatchObject({ ok: false, error: { kind: 'schema', path: ['version'] } });
  });
});

describe('migration', () => {
  it('brings a v1 session to the current version', () => {
    const r = parseSession(v1);
    expect(r).toEqual({
      ok: true,
      session: {
        version: SESSION_VERSION,
        name: 'Old one',
        created: v1.savedAt,
        updated: v1.savedAt,
        model: { kind: 'hub', repo: 'openai-community/gpt2', revision: 'main' },
        prompts: ['Hello <b>world</b>'],
        promptIndex: 0,
        bos: true,
        selection: { layer: 3, head: 5, query: 7, compare: [] },
        view: { active: 'heatmap', metric: 'firstMass', heatmap: { scale: 'log', scheme: 'cividis', foldFirst: true, zoom: null } },
      },
    });
  });

  it('fills v1 defaults and reads bundled models', () => {
    const { name: _n, bos: _b, query: _q, scale: _s, scheme: _c, foldFirst: _f, ...minimal } = v1;
    const r = parseSession({ ...minimal, model: 'bundled:headscope-tiny' });
    expect(r.ok && r.session).toMatchObject({
      name: 'Untitled session',
      model: { kind: 'bundled', id: 'headscope-tiny' },
      bos: null,
      selection: { query: null },
      view: { heatmap: { scale: 'linear', scheme: 'viridis', foldFirst: false } },
    });
    expect(migrateV1({ ...v1, version: 1, model: 'hub:a/b', scale: 'log', scheme: 'cividis' })).toMatchObject({ model: { repo: 'a/b', revision: 'main' } });
  });

  it('reports invalid v1 sessions at their path', () => {
    expect(parseSession({ ...v1, layer: -1 })).toMatchObject({ ok: false, error: { kind: 'schema', path: ['layer'] } });
    // v1 had no local models: a local model string cannot migrate.
    expect(parseSession({ ...v1, model: 'local:my-model' })).toMatchObject({ ok: false, error: { kind: 'schema', path: ['model', 'kind'] } });
  });
});

describe('interventions', () => {
  it('map to the engine form and back, masks as −∞', () => {
    fc.assert(
      fc.property(interventionArb, (iv) => {
        const engine: Intervention = toIntervention(iv);
        if (iv.kind === 'logitBias' && iv.value === 'mask') expect(engine).toMatchObject({ value: Number.NEGATIVE_INFINITY });
        expect(fromIntervention(engine)).toEqual(iv);
      }),
    );
    expect(fromIntervention({ kind: 'logitBias', layer: 0, head: 'all', key: 0, value: -1e31 })).toMatchObject({ value: 'mask' });
  });
});

describe('session format 3: the calibration panel', () => {
  const v2 = { ...newSession({ kind: 'bundled', id: 'tiny' }, 'p', 5), version: 2 };
  const calibration = {
    act: { on: true, heads: '2.1,3.0', tau: 0.1, tauMode: 'absolute', beta: 0.2 },
    zeroTuning: { on: true, heads: 'all', gamma: 3 },
  };

  it('a v2 session migrates with the panel off; v3 keeps its settings; a bad head list is refused at its path', () => {
    const r = parseSession(v2);
    expect(r).toMatchObject({ ok: true, session: { version: SESSION_VERSION } });
    expect(r.ok && r.session.calibration).toBeUndefined();
    expect(parseSession({ ...v2, version: 3, calibration })).toMatchObject({ ok: true, session: { calibration } });
    const bad = parseSession({ ...v2, version: 3, calibration: { ...calibration, act: { ...calibration.act, heads: '2.1;x' } } });
    expect(bad).toMatchObject({ ok: false, error: { kind: 'schema', path: ['calibration', 'act', 'heads'] } });
    expect(parseSession({ ...v2, version: 3, calibration: { ...calibration, zeroTuning: { ...calibration.zeroTuning, gamma: 0 } } }).ok).toBe(false);
  });
});
