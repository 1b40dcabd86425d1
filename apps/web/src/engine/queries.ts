/**
 * Engine calls as react-query queries, keyed by (model, tokens, …). The worker holds one model and one
 * run, so when a model or run takes over, the queries of the ones it replaced are dropped: asking again
 * for them re-runs the engine instead of reading a stale answer.
 */
import { keepPreviousData, type QueryClient, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo } from 'react';
import { useModelStore } from '../state/model-store.js';
import { usePromptStore } from '../state/prompt-store.js';
import { engine } from './client.js';
import { modelKey } from './model-ref.js';
import type { CalibrationRequest, LoadedSummary, ModelRef, RunSummary, WindowRequest } from './protocol.js';

export const keys = {
  probe: ['gpu'] as const,
  inspect: (m: string) => ['inspect', m] as const,
  load: (m: string) => ['engine', m, 'load'] as const,
  encode: (m: string, text: string, bos: boolean) => ['engine', m, 'encode', text, bos] as const,
  /** No interventions yet: the key names them so that calibrated runs get their own entries. */
  run: (m: string, ids: readonly number[]) => ['engine', m, 'run', ids.join(','), 'interventions:none'] as const,
  ofRun: (m: string, runId: number) => ['engine', m, 'of-run', runId] as const,
};

export function useGpu() {
  return useQuery({ queryKey: keys.probe, queryFn: () => engine().call('probe', {}), staleTime: Number.POSITIVE_INFINITY, retry: false });
}

/** Loads the selected model; on success it becomes the active one and the other models' queries go. */
export function useModelLoad(enabled: boolean) {
  const selected = useModelStore((s) => s.selected);
  const setProgress = useModelStore((s) => s.setProgress);
  const activate = useModelStore((s) => s.activate);
  const qc = useQueryClient();
  const key = modelKey(selected);
  const q = useQuery({
    queryKey: keys.load(key),
    queryFn: ({ signal }) => engine().call('load', { ref: selected }, { signal, onProgress: setProgress }),
    enabled,
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  const loaded = q.data;
  useEffect(() => {
    if (!loaded) return;
    dropOtherModels(qc, key);
    activate(selected, loaded);
  }, [loaded, key, selected, activate, qc]);
  return q;
}

function dropOtherModels(qc: QueryClient, key: string): void {
  qc.removeQueries({ predicate: (q) => q.queryKey[0] === 'engine' && q.queryKey[1] !== key });
}

/** The active model's summary (what prompts run on). */
export function useActiveModel(): { ref: ModelRef; key: string; info: LoadedSummary } | null {
  const active = useModelStore((s) => s.active);
  const info = useModelStore((s) => s.activeInfo);
  return useMemo(() => (active && info ? { ref: active, key: modelKey(active), info } : null), [active, info]);
}

export function useInspect(ref: ModelRef | null) {
  return useQuery({
    queryKey: keys.inspect(ref ? modelKey(ref) : ''),
    queryFn: ({ signal }) => engine().call('inspect', { ref: ref! }, { signal }),
    enabled: ref !== null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}

/** Token ids and texts; `live` keeps showing the previous tokens while the next ones are computed (typing). */
export function useEncode(model: string | null, text: string | null, bos: boolean, live = false) {
  return useQuery({
    queryKey: keys.encode(model ?? '', text ?? '', bos),
    queryFn: () => engine().call('encode', { text: text!, bos }),
    enabled: model !== null && text !== null,
    staleTime: Number.POSITIVE_INFINITY,
    ...(live ? { placeholderData: keepPreviousData } : {}),
    retry: false,
  });
}

/** One forward pass with every head captured; a new run replaces the previous one in the worker. */
export function useRun(model: string | null, ids: readonly number[] | null) {
  const qc = useQueryClient();
  const key = keys.run(model ?? '', ids ?? []);
  const q = useQuery({
    queryKey: key,
    queryFn: async () => {
      const r = await engine().call('run', { ids: [...ids!] });
      qc.removeQueries({
        predicate: (x) => x.queryKey[0] === 'engine' && (x.queryKey[2] === 'run' || x.queryKey[2] === 'of-run') && !sameKey(x.queryKey, key),
      });
      return r;
    },
    enabled: model !== null && ids !== null && ids.length > 0,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  return q;
}

function sameKey(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export interface RunRef {
  model: string;
  run: RunSummary;
}

export function useWindow(r: RunRef | null, layer: number, head: number, w: WindowRequest | null) {
  return useQuery({
    queryKey: [...keys.ofRun(r?.model ?? '', r?.run.runId ?? 0), 'window', layer, head, w?.q0, w?.q1, w?.k0, w?.k1, w?.stride],
    queryFn: async () => ({ layer, head, ...(await engine().call('window', { runId: r!.run.runId, layer, head, window: w! })) }),
    enabled: r !== null && w !== null,
    staleTime: Number.POSITIVE_INFINITY,
    // While a pan fetches the next window, keep drawing the previous one of the same head.
    placeholderData: (prev) => (prev && prev.layer === layer && prev.head === head ? prev : undefined),
    retry: false,
  });
}

/** The same window of several heads (the token view). */
export function useWindows(r: RunRef | null, heads: readonly { layer: number; head: number }[], w: WindowRequest | null) {
  return useQueries({
    queries: heads.map(({ layer, head }) => ({
      queryKey: [...keys.ofRun(r?.model ?? '', r?.run.runId ?? 0), 'window', layer, head, w?.q0, w?.q1, w?.k0, w?.k1, w?.stride],
      queryFn: async () => ({ layer, head, ...(await engine().call('window', { runId: r!.run.runId, layer, head, window: w! })) }),
      enabled: r !== null && w !== null,
      staleTime: Number.POSITIVE_INFINITY,
      retry: false,
    })),
  });
}

/** One query row of several heads (the per-query bar chart). */
export function useRows(r: RunRef | null, heads: readonly { layer: number; head: number }[], query: number | null) {
  return useQueries({
    queries: heads.map(({ layer, head }) => ({
      queryKey: [...keys.ofRun(r?.model ?? '', r?.run.runId ?? 0), 'row', layer, head, query],
      queryFn: () => engine().call('row', { runId: r!.run.runId, layer, head, query: query! }),
      enabled: r !== null && query !== null,
      staleTime: Number.POSITIVE_INFINITY,
      retry: false,
    })),
  });
}

export function useRow(r: RunRef | null, layer: number, head: number, query: number | null) {
  return useQuery({
    queryKey: [...keys.ofRun(r?.model ?? '', r?.run.runId ?? 0), 'row', layer, head, query],
    queryFn: () => engine().call('row', { runId: r!.run.runId, layer, head, query: query! }),
    enabled: r !== null && query !== null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}

export function useValue(r: RunRef | null, layer: number, head: number, cell: { q: number; k: number } | null) {
  return useQuery({
    queryKey: [...keys.ofRun(r?.model ?? '', r?.run.runId ?? 0), 'value', layer, head, cell?.q, cell?.k],
    queryFn: () => engine().call('value', { runId: r!.run.runId, layer, head, query: cell!.q, key: cell!.k }),
    enabled: r !== null && cell !== null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}

export function useTopK(r: RunRef | null, position: number | null, k: number) {
  return useQuery({
    queryKey: [...keys.ofRun(r?.model ?? '', r?.run.runId ?? 0), 'topk', position, k],
    queryFn: () => engine().call('topk', { runId: r!.run.runId, position: position!, k }),
    enabled: r !== null && position !== null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}

/** The run the views show: the submitted prompt, encoded and run on the active model. */
export function useCurrentRun() {
  const active = useActiveModel();
  const submitted = usePromptStore((s) => s.submitted);
  const model = active?.key ?? null;
  const encoded = useEncode(model, submitted?.text ?? null, submitted?.bos ?? false);
  const run = useRun(model, encoded.data?.ids ?? null);
  const ref: RunRef | null = model && run.data && encoded.data ? { model, run: run.data } : null;
  return { active, submitted, encoded, run, ref, tokens: encoded.data?.texts ?? [], ids: encoded.data?.ids ?? [] };
}

/**
 * The calibration panel's view. The key holds the tokens, every setting, the head and the position, so a
 * result is never shown for other settings; while a slider moves, the previous result stays drawn.
 */
export function useCalibration(model: string | null, req: CalibrationRequest | null) {
  return useQuery({
    queryKey: ['engine', model ?? '', 'calibrate', JSON.stringify(req)],
    queryFn: () => engine().call('calibrate', req!),
    enabled: model !== null && req !== null && req.ids.length > 0,
    staleTime: Number.POSITIVE_INFINITY,
    placeholderData: keepPreviousData,
    retry: false,
  });
}
