import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundledRef } from '../../src/engine/model-ref.js';
import { captureSession, checkLocalFiles, localModelHash, modelPlan, type SessionState, sameContent, sessionModelOf } from '../../src/session/bridge.js';
import { parseSession } from '../../src/session/migrate.js';
import { newSession } from '../../src/session/schema.js';
import { sessionArb } from './arbitrary.js';

const file = (name: string, text: string) => new File([text], name);
const hex = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

describe('local model hash', () => {
  it('hashes the sorted manifest of file hashes', async () => {
    const a = file('model.safetensors', 'weights');
    const b = file('config.json', '{}');
    const expected = hex(`config.json\t2\t${hex('{}')}\nmodel.safetensors\t7\t${hex('weights')}\n`);
    expect(await localModelHash([a, b])).toBe(expected);
    expect(await localModelHash([b, a])).toBe(expected);
  });

  it('checks picked files against the session', async () => {
    const files = [file('config.json', '{}'), file('model.safetensors', 'weights')];
    const ref = { kind: 'local' as const, name: 'mine', files };
    const model = sessionModelOf(ref, await localModelHash(files));
    expect(model).toMatchObject({
      kind: 'local',
      name: 'mine',
      files: [
        { name: 'config.json', size: 2 },
        { name: 'model.safetensors', size: 7 },
      ],
    });
    if (model?.kind !== 'local') throw new Error('expected a local model');
    expect(sessionModelOf(ref)).toBeNull();
    expect(await checkLocalFiles(model, [...files, file('extra.txt', 'x')])).toMatchObject({ ok: true, ref: { kind: 'local', name: 'mine' } });
    expect(await checkLocalFiles(model, [files[0]!])).toMatchObject({ ok: false, message: expect.stringContaining('model.safetensors') });
    expect(await checkLocalFiles(model, [files[0]!, file('model.safetensors', 'weightsX')])).toMatchObject({
      ok: false,
      message: expect.stringContaining('size'),
    });
    expect(await checkLocalFiles(model, [files[0]!, file('model.safetensors', 'WEIGHTS')])).toMatchObject({
      ok: false,
      message: expect.stringContaining('contents'),
    });
  });
});

describe('model references', () => {
  it('go to the session form and back', () => {
    const base = (id: string) => bundledRef(id, '/app/');
    const b = sessionModelOf(bundledRef('headscope-tiny', '/app/'));
    expect(b).toEqual({ kind: 'bundled', id: 'headscope-tiny' });
    expect(modelPlan(b!, base)).toEqual({ kind: 'ref', ref: bundledRef('headscope-tiny', '/app/') });
    const h = sessionModelOf({ kind: 'hub', repo: 'EleutherAI/pythia-14m@v0' });
    expect(h).toEqual({ kind: 'hub', repo: 'EleutherAI/pythia-14m', revision: 'v0' });
    expect(sessionModelOf({ kind: 'hub', repo: 'a/b' })).toEqual({ kind: 'hub', repo: 'a/b', revision: 'main' });
    expect(sessionModelOf({ kind: 'hub', repo: 'not a repo' })).toBeNull();
    expect(modelPlan(h!, base, '/hub')).toEqual({
      kind: 'hub',
      repo: 'EleutherAI/pythia-14m@v0',
      ref: { kind: 'hub', repo: 'EleutherAI/pythia-14m@v0', endpoint: '/hub' },
    });
    expect(modelPlan({ kind: 'local', name: 'm', sha256: 'a'.repeat(64), files: [{ name: 'x', size: 1 }] }, base).kind).toBe('needsFiles');
  });
});

describe('capture', () => {
  it('captures the state into a valid session and keeps the previous name, times and extras', () => {
    fc.assert(
      fc.property(sessionArb, (prev) => {
        const state: SessionState = { prompts: prev.prompts, promptIndex: prev.promptIndex, bos: prev.bos, selection: prev.selection, view: prev.view };
        const next = captureSession(prev.model, state, prev.updated, prev);
        expect(next).toEqual(prev);
        expect(sameContent(next, prev)).toBe(true);
        expect(parseSession(next)).toEqual({ ok: true, session: prev });
        expect(sameContent({ ...next, bos: !next.bos }, prev)).toBe(false);
      }),
      { numRuns: 50 },
    );
    const fresh = captureSession({ kind: 'bundled', id: 'x' }, { ...newSession({ kind: 'bundled', id: 'x' }, 'p', 0), promptIndex: 9 }, 42);
    expect(fresh).toMatchObject({ name: 'Untitled session', created: 42, updated: 42, promptIndex: 0 });
    expect(sameContent({ ...fresh, updated: 1 }, fresh)).toBe(true);
  });
});
