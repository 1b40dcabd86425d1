import { describe, expect, it } from 'vitest';
import { EngineClient, type WorkerLike } from '../src/engine/client.js';
import { EngineError, type MainToWorker, type WorkerToMain } from '../src/engine/protocol.js';

/** A fake worker that records messages and lets the test answer them. */
function fakeWorker() {
  const sent: MainToWorker[] = [];
  let listener: ((ev: MessageEvent<WorkerToMain>) => void) | undefined;
  const worker: WorkerLike = {
    postMessage: (m) => sent.push(m),
    addEventListener: (_t, l) => {
      listener = l;
    },
    terminate: () => {},
  };
  const reply = (m: WorkerToMain) => listener?.({ data: m } as MessageEvent<WorkerToMain>);
  return { worker, sent, reply };
}

describe('EngineClient', () => {
  it('matches results and progress to requests by id', async () => {
    const { worker, sent, reply } = fakeWorker();
    const client = new EngineClient(worker);
    const progress: number[] = [];
    const a = client.call('encode', { text: 'a', bos: false });
    const b = client.call('load', { ref: { kind: 'bundled', id: 'x', baseUrl: '/models/x/' } }, { onProgress: (p) => progress.push(p.loaded) });
    expect(sent.map((m) => (m.type === 'request' ? m.kind : m.type))).toEqual(['encode', 'load']);
    const [ea, eb] = sent as Extract<MainToWorker, { type: 'request' }>[];
    reply({ type: 'progress', id: eb!.id, progress: { file: 'f', loaded: 5, total: 10, bytesPerSecond: 1 } });
    reply({ type: 'error', id: eb!.id, error: { name: 'ModelTooLargeError', message: 'too big', fix: 'smaller' } });
    reply({ type: 'result', id: ea!.id, result: { ids: [1], texts: ['a'] } });
    await expect(a).resolves.toEqual({ ids: [1], texts: ['a'] });
    const err = await b.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).fix).toBe('smaller');
    expect(progress).toEqual([5]);
  });

  it('sends a cancel message when the signal aborts', async () => {
    const { worker, sent } = fakeWorker();
    const client = new EngineClient(worker);
    const ac = new AbortController();
    const p = client.call('inspect', { ref: { kind: 'hub', repo: 'a/b' } }, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(sent[1]).toEqual({ type: 'cancel', id: (sent[0] as { id: number }).id });
  });
});
