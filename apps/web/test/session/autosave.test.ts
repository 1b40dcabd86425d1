import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Autosaver } from '../../src/session/autosave.js';
import { newSession, type Session } from '../../src/session/schema.js';
import { MemorySessionStore, type SessionStore } from '../../src/session/store.js';

const s = newSession({ kind: 'bundled', id: 'headscope-tiny' }, 'The cat', 0, 'A');

function counting(store: SessionStore) {
  const puts: Session[] = [];
  const wrapped: SessionStore = Object.assign(Object.create(store) as SessionStore, {
    put: async (id: string, x: Session) => {
      puts.push(x);
      return store.put(id, x);
    },
  });
  return { wrapped, puts };
}

describe('Autosaver', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('debounces changes into one put and skips unchanged content', async () => {
    const store = new MemorySessionStore(undefined, () => 100);
    const { wrapped, puts } = counting(store);
    const saved: Session[] = [];
    const a = new Autosaver(wrapped, 'cur', { delayMs: 500, onSaved: (x) => saved.push(x) });
    a.schedule({ ...s, bos: true });
    a.schedule({ ...s, bos: false });
    await vi.advanceTimersByTimeAsync(499);
    expect(puts.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await a.flush();
    expect(puts.map((p) => p.bos)).toEqual([false]);
    expect(saved).toHaveLength(1);
    // The same content again (only `updated` differs): nothing to write.
    a.schedule({ ...s, bos: false, updated: 12345 });
    await vi.advanceTimersByTimeAsync(1_000);
    await a.flush();
    expect(puts.length).toBe(1);
    expect(await store.get('cur')).toMatchObject({ ok: true, session: { bos: false, updated: 100 } });
  });

  it('flushes a pending change at once, and markSaved avoids writing back an opened session', async () => {
    const store = new MemorySessionStore();
    const { wrapped, puts } = counting(store);
    const a = new Autosaver(wrapped, 'cur', { delayMs: 10_000 });
    a.markSaved(s);
    a.schedule({ ...s });
    await a.flush();
    expect(puts.length).toBe(0);
    a.schedule({ ...s, name: 'B' });
    await a.flush();
    expect(puts.map((p) => p.name)).toEqual(['B']);
    a.schedule({ ...s, name: 'C' });
    a.dispose();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(puts.length).toBe(1);
  });

  it('keeps a change whose save failed and retries it', async () => {
    const store = new MemorySessionStore();
    let fail = true;
    const flaky: SessionStore = Object.assign(Object.create(store) as SessionStore, {
      put: async (id: string, x: Session) => {
        if (fail) throw new Error('QuotaExceededError');
        return store.put(id, x);
      },
    });
    const errors: unknown[] = [];
    const a = new Autosaver(flaky, 'cur', { onError: (e) => errors.push(e) });
    a.schedule({ ...s, name: 'X' });
    await a.flush();
    expect(errors).toHaveLength(1);
    expect(await store.get('cur')).toBeNull();
    fail = false;
    await a.flush();
    expect(await store.get('cur')).toMatchObject({ ok: true, session: { name: 'X' } });
    expect(a.lastSaved?.name).toBe('X');
  });
});
