import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newSession, SESSION_VERSION } from '../../src/session/schema.js';
import { MemorySessionStore, SessionStoreError } from '../../src/session/store.js';
import { sessionArb } from './arbitrary.js';

function clockStore() {
  let t = 1_000;
  let n = 0;
  const store = new MemorySessionStore(
    undefined,
    () => t,
    () => `id-${++n}`,
  );
  return { store, tick: (dt = 1) => (t += dt), now: () => t };
}

const s = newSession({ kind: 'bundled', id: 'headscope-tiny' }, 'The cat', 500, 'First');

describe('MemorySessionStore', () => {
  it('puts and gets; put is idempotent, keeps `created` and moves `updated`', async () => {
    const { store, tick } = clockStore();
    const a = await store.put('a', s);
    expect(a).toEqual({ ...s, created: 500, updated: 1_000 });
    tick(10);
    const b = await store.put('a', s);
    expect(b).toEqual({ ...s, created: 500, updated: 1_010 });
    expect(await store.get('a')).toEqual({ ok: true, id: 'a', session: b });
    expect((await store.list()).length).toBe(1);
    expect(await store.get('missing')).toBeNull();
  });

  it('lists the most recently updated first', async () => {
    const { store, tick } = clockStore();
    await store.put('a', { ...s, name: 'A' });
    tick();
    await store.put('b', { ...s, name: 'B', model: { kind: 'hub', repo: 'x/y', revision: 'v1' } });
    tick();
    await store.put('a', { ...s, name: 'A2' });
    const list = await store.list();
    expect(list.map((e) => e.ok && [e.id, e.name, e.model])).toEqual([
      ['a', 'A2', 'headscope-tiny'],
      ['b', 'B', 'x/y@v1'],
    ]);
  });

  it('renames, duplicates and removes', async () => {
    const { store, tick } = clockStore();
    await store.put('a', s);
    tick(5);
    expect(await store.rename('a', 'Renamed')).toMatchObject({ name: 'Renamed', updated: 1_005 });
    tick(5);
    const copy = await store.duplicate('a');
    expect(copy).toMatchObject({ id: 'id-1', session: { name: 'Renamed (copy)', created: 1_010, updated: 1_010, prompts: s.prompts } });
    expect((await store.list()).map((e) => e.id).sort()).toEqual(['a', 'id-1']);
    await store.remove('a');
    expect(await store.get('a')).toBeNull();
    expect(await store.rename('a', 'x')).toBeNull();
    expect(await store.duplicate('a')).toBeNull();
  });

  it('refuses to save an invalid session (and saves nothing)', async () => {
    const { store } = clockStore();
    await expect(store.put('a', { ...s, prompts: [] })).rejects.toBeInstanceOf(SessionStoreError);
    expect(await store.get('a')).toBeNull();
  });

  it('lists damaged, old and newer records without losing them', async () => {
    const { store } = clockStore();
    await store.put('good', s);
    await store.memory.write('broken', { version: 2, name: 42 });
    await store.memory.write('future', { version: 9 });
    await store.memory.write('old', { version: 1, model: 'bundled:headscope-tiny', prompt: 'p', layer: 0, head: 0, savedAt: 7 });
    const list = await store.list();
    expect(list.map((e) => [e.id, e.ok ? 'ok' : e.error.kind])).toEqual([
      ['good', 'ok'],
      ['old', 'ok'],
      ['broken', 'schema'],
      ['future', 'futureVersion'],
    ]);
    expect(await store.get('old')).toMatchObject({ ok: true, session: { version: SESSION_VERSION, prompts: ['p'] } });
    // Damaged records stay until the user removes them.
    expect(store.memory.rows.has('broken')).toBe(true);
  });

  it('stores random sessions faithfully', async () => {
    await fc.assert(
      fc.asyncProperty(sessionArb, async (x) => {
        const store = new MemorySessionStore(undefined, () => x.updated);
        const saved = await store.put('k', x);
        expect(await store.get('k')).toEqual({ ok: true, id: 'k', session: saved });
        expect(saved).toEqual({ ...x, updated: Math.max(x.updated, x.created) });
      }),
      { numRuns: 50 },
    );
  });
});
