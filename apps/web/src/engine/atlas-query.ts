/**
 * The head atlas as a react-query query keyed by (model, prompts, settings, BOS): a finished result is
 * cached, so going back to earlier prompts or settings shows it at once. It runs only when asked (Run
 * atlas); cancelling aborts the worker's run and leaves no entry, so a later run starts afresh.
 */
import type { AtlasProgress } from '@headscope/analysis';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo, useState } from 'react';
import { engine } from './client.js';
import type { AtlasRequest } from './protocol.js';

export const atlasKey = (model: string, req: AtlasRequest | null) => ['engine', model, 'atlas', JSON.stringify(req)] as const;

export function useAtlas(model: string | null, req: AtlasRequest | null) {
  const qc = useQueryClient();
  const [progress, setProgress] = useState<AtlasProgress | null>(null);
  /** The last run was cancelled (cleared by the next run). */
  const [cancelled, setCancelled] = useState(false);
  const key = useMemo(() => atlasKey(model ?? '', req), [model, req]);
  const q = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => {
      setProgress(null);
      return engine().call('atlas', req!, { signal, onProgress: setProgress });
    },
    enabled: false,
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  const { refetch } = q;
  const run = useCallback(() => {
    if (model === null || req === null) return;
    setCancelled(false);
    void refetch();
  }, [model, req, refetch]);
  const cancel = useCallback(() => {
    void qc.cancelQueries({ queryKey: key });
    setProgress(null);
    setCancelled(true);
  }, [qc, key]);
  return { query: q, progress, cancelled, run, cancel };
}
