/** The successor panel's engine calls as react-query queries, keyed by model (dropped when it changes), variant and head. */
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { engine } from '../engine/client.js';
import type { SuccessorBehaviourProgress, SuccessorVariant } from '../engine/protocol.js';

export function useSuccessorOverview(model: string | null, variant: SuccessorVariant, enabled: boolean) {
  return useQuery({
    queryKey: ['engine', model ?? '', 'successor', variant],
    queryFn: () => engine().call('successor', { variant }),
    enabled: enabled && model !== null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}

export function useSuccessorHead(model: string | null, variant: SuccessorVariant, layer: number, head: number, enabled: boolean) {
  return useQuery({
    queryKey: ['engine', model ?? '', 'successor-head', variant, layer, head],
    queryFn: () => engine().call('successorHead', { variant, layer, head }),
    enabled: enabled && model !== null,
    staleTime: Number.POSITIVE_INFINITY,
    placeholderData: keepPreviousData,
    retry: false,
  });
}

/**
 * The behavioural check of a head: the first call runs one pass per prompt for every head (seconds on a
 * software GPU), reporting progress; cancel() aborts it in the worker.
 */
export function useSuccessorBehaviour(model: string | null, layer: number, head: number, perTask: number, enabled: boolean) {
  const [progress, setProgress] = useState<SuccessorBehaviourProgress | null>(null);
  const qc = useQueryClient();
  const queryKey = ['engine', model ?? '', 'successor-behaviour', layer, head, perTask];
  const query = useQuery({
    queryKey,
    queryFn: ({ signal }) => engine().call('successorBehaviour', { layer, head, perTask }, { signal, onProgress: setProgress }),
    enabled: enabled && model !== null,
    staleTime: Number.POSITIVE_INFINITY,
    placeholderData: keepPreviousData,
    retry: false,
  });
  const cancel = () => void qc.cancelQueries({ queryKey });
  return { query, progress, cancel };
}
