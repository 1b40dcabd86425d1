/** One flagged head (or token), as every detector reports it. */
export interface Finding {
  kind: 'first-token-sink' | 'hidden-sink' | 'previous-token' | 'duplicate-token' | 'induction' | 'retrieval' | 'successor';
  layer: number;
  head: number;
  score: number;
  threshold: number;
  /** Detector-specific detail (key positions, tokens, counts). */
  evidence?: Record<string, unknown>;
}

/** A square causal attention map of one head: rows = queries, cols = keys, row-major N×N. */
export interface AttentionMap {
  n: number;
  data: Float32Array;
}
