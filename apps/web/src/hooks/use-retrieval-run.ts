/**
 * Starts and cancels the retrieval lab's run in the engine worker. Each finished test arrives as a
 * progress event and is appended to the store, so the grid fills in while the page stays responsive; a
 * cancel aborts the worker's run and keeps the tests done so far. A model change cancels the run.
 */
import { type AtlasResult, withRetrievalScores } from '@headscope/analysis';
import { useCallback, useEffect, useMemo } from 'react';
import { engine } from '../engine/client.js';
import { toErrorInfo } from '../engine/protocol.js';
import { requestOf, useRetrievalStore } from '../state/retrieval-store.js';

let controller: AbortController | null = null;

export function cancelRetrieval(): void {
  controller?.abort();
}

export function useRetrievalRun(model: string | null) {
  const set = useRetrievalStore((s) => s.set);

  const start = useCallback(() => {
    if (!model) return;
    controller?.abort();
    const abort = new AbortController();
    controller = abort;
    const request = requestOf(useRetrievalStore.getState());
    set({
      status: 'running',
      request,
      model,
      done: 0,
      total: 0,
      elapsedMs: 0,
      etaMs: Number.NaN,
      rows: [],
      outcome: null,
      error: null,
      inputError: null,
      viewing: false,
      needle: 0,
      cell: { d: 0, l: 0 },
    });
    engine()
      .call('retrieval', request, {
        signal: abort.signal,
        onProgress: (p) => {
          if (controller !== abort) return;
          const s = useRetrievalStore.getState();
          set({
            done: p.done,
            total: p.total,
            elapsedMs: p.elapsedMs,
            etaMs: p.etaMs,
            lengthsRun: p.lengths,
            depthsRun: p.depths,
            needlesRun: p.needles,
            rows: [...s.rows, p.row],
          });
        },
      })
      .then(
        (outcome) => {
          if (controller !== abort) return;
          set({ status: 'done', outcome, lengthsRun: outcome.lengths, depthsRun: outcome.depths, needlesRun: outcome.needles, etaMs: 0 });
        },
        (e: unknown) => {
          if (controller !== abort) return;
          const info = toErrorInfo(e);
          set(info.name === 'AbortError' ? { status: 'cancelled' } : { status: 'failed', error: info });
        },
      )
      .finally(() => {
        if (controller === abort) controller = null;
      });
  }, [model, set]);

  // The worker's model is replaced when another loads: a run on the old one stops.
  useEffect(() => () => cancelRetrieval(), []);

  return { start, cancel: cancelRetrieval };
}

/** An atlas result with this model's finished retrieval-lab run merged in (the `retrieval` score and its findings). */
export function useWithRetrieval(model: string, result: AtlasResult | undefined): AtlasResult | undefined {
  const outcome = useRetrievalStore((s) => (s.model === model ? s.outcome : null));
  return useMemo(
    () =>
      result && outcome && outcome.retrieval.length === result.table.length
        ? withRetrievalScores(result, outcome.retrieval, { counted: outcome.counted, tests: outcome.tests.length })
        : result,
    [result, outcome],
  );
}
