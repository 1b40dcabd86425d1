/**
 * The engine worker: receives typed requests (protocol.ts), runs them on the EngineHost and posts back
 * results, typed errors and load progress. Float32Array results are transferred, not copied.
 */
import { EngineHost } from './host.js';
import { type EngineApi, type EngineKind, type MainToWorker, type RequestMessage, toErrorInfo, type WorkerToMain } from './protocol.js';

interface WorkerScope {
  location: { origin: string };
  onmessage: ((ev: MessageEvent<MainToWorker>) => void) | null;
  postMessage(message: WorkerToMain, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const host = new EngineHost(scope.location.origin);
const controllers = new Map<number, AbortController>();

type Handlers = { [K in EngineKind]: (args: EngineApi[K]['req'], signal: AbortSignal, id: number) => Promise<EngineApi[K]['res']> | EngineApi[K]['res'] };

const handlers: Handlers = {
  probe: () => host.probe(),
  inspect: ({ ref }, signal) => host.inspect(ref, signal),
  load: ({ ref }, signal, id) => host.load(ref, signal, (progress) => scope.postMessage({ type: 'progress', id, progress })),
  encode: ({ text, bos }) => host.encode(text, bos),
  run: ({ ids }) => host.runIds(ids),
  window: ({ runId, layer, head, window }) => host.window(runId, layer, head, window),
  row: ({ runId, layer, head, query }) => host.row(runId, layer, head, query),
  value: ({ runId, layer, head, query, key }) => host.value(runId, layer, head, query, key),
  topk: ({ runId, position, k }) => host.topk(runId, position, k),
  captures: ({ runId }) => host.captures(runId),
  calibrate: (req) => host.calibrate(req),
  retrieval: (req, signal, id) => host.retrieval(req, signal, (progress) => scope.postMessage({ type: 'progress', id, progress })),
  retrievalTest: (req) => host.retrievalTest(req),
  successor: ({ variant }) => host.successor(variant),
  successorHead: (req) => host.successorHead(req),
  successorBehaviour: (req, signal, id) => host.successorBehaviour(req, signal, (progress) => scope.postMessage({ type: 'progress', id, progress })),
  atlas: (req, signal, id) => host.atlas(req, signal, (progress) => scope.postMessage({ type: 'progress', id, progress })),
};

function dispatch(msg: RequestMessage, signal: AbortSignal): Promise<unknown> {
  const handler = handlers[msg.kind] as (args: unknown, signal: AbortSignal, id: number) => unknown;
  return Promise.resolve().then(() => handler(msg.args, signal, msg.id));
}

/** ArrayBuffers inside a result (one level deep, and the RunSummary's nested arrays) to transfer. */
function transferables(result: unknown, out: Transferable[] = [], depth = 0): Transferable[] {
  if (ArrayBuffer.isView(result)) {
    if (result.buffer instanceof ArrayBuffer && !out.includes(result.buffer)) out.push(result.buffer);
  } else if (result && typeof result === 'object' && depth < 2) {
    for (const v of Object.values(result)) transferables(v, out, depth + 1);
  }
  return out;
}

scope.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === 'cancel') {
    controllers.get(msg.id)?.abort();
    return;
  }
  const controller = new AbortController();
  controllers.set(msg.id, controller);
  dispatch(msg, controller.signal)
    .then(
      (result) => scope.postMessage({ type: 'result', id: msg.id, result }, transferables(result)),
      (e: unknown) => scope.postMessage({ type: 'error', id: msg.id, error: toErrorInfo(e) }),
    )
    .finally(() => controllers.delete(msg.id));
};
