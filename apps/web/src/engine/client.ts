/**
 * The main thread's side of the worker protocol: `call(kind, args)` returns a promise of that kind's typed
 * result; an AbortSignal cancels it (the worker aborts downloads and inspections); load progress arrives
 * through `onProgress`.
 */
import {
  type EngineApi,
  EngineError,
  type EngineKind,
  type LoadProgressInfo,
  type MainToWorker,
  type ProgressOf,
  type SuccessorBehaviourProgress,
  type WorkerToMain,
} from './protocol.js';
import type { RetrievalProgress } from './retrieval-protocol.js';

/** What the client needs from a Worker (a test can pass a fake). */
export interface WorkerLike {
  postMessage(message: MainToWorker): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<WorkerToMain>) => void): void;
  terminate(): void;
}

export interface CallOptions<K extends EngineKind = EngineKind> {
  signal?: AbortSignal | undefined;
  onProgress?: ((p: ProgressOf<K>) => void) | undefined;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onProgress: ((p: LoadProgressInfo | RetrievalProgress | ProgressOf<'atlas'> | SuccessorBehaviourProgress) => void) | undefined;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (ev) => this.receive(ev.data));
  }

  call<K extends EngineKind>(kind: K, args: EngineApi[K]['req'], options: CallOptions<K> = {}): Promise<EngineApi[K]['res']> {
    const id = this.nextId++;
    const { signal } = options;
    return new Promise<EngineApi[K]['res']>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError());
        return;
      }
      const onAbort = () => {
        this.worker.postMessage({ type: 'cancel', id });
        this.pending.delete(id);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as EngineApi[K]['res']);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        onProgress: options.onProgress as Pending['onProgress'],
      });
      this.worker.postMessage({ type: 'request', id, kind, args } as MainToWorker);
    });
  }

  private receive(msg: WorkerToMain): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') {
      p.onProgress?.(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'result') p.resolve(msg.result);
    else p.reject(new EngineError(msg.error));
  }

  dispose(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new EngineError({ name: 'EngineStopped', message: 'The engine worker was stopped.' }));
    this.pending.clear();
  }
}

function abortError(): Error {
  const e = new Error('The request was cancelled.');
  e.name = 'AbortError';
  return e;
}

let shared: EngineClient | undefined;

/** The app's one engine worker, started on first use. */
export function engine(): EngineClient {
  shared ??= new EngineClient(
    new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'headscope-engine' }) as unknown as WorkerLike,
  );
  return shared;
}
