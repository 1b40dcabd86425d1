/** What a model is and what it needs, shown before a download (inspection) and after loading. */
import type { ModelSummary } from '../engine/protocol.js';
import { formatBytes, formatCount } from '../lib/format.js';

export function ModelFacts({ m }: { m: ModelSummary }) {
  return (
    <dl className="facts">
      <dt>Architecture</dt>
      <dd>
        {m.modelType}: {m.nLayers} layers × {m.nHeads} heads{m.nKvHeads !== m.nHeads ? ` (${m.nKvHeads} KV)` : ''}, d<sub>model</sub> {m.dModel}, vocabulary{' '}
        {formatCount(m.vocabSize)}, context {m.nCtx}
      </dd>
      <dt>Parameters</dt>
      <dd>{formatCount(m.parameters)}</dd>
      <dt>Download</dt>
      <dd>{formatBytes(m.checkpointBytes)}</dd>
      <dt>GPU memory</dt>
      <dd>
        {formatBytes(m.fp32Bytes + m.captureBytes)} ({formatBytes(m.fp32Bytes)} weights as fp32 + {formatBytes(m.captureBytes)} attention for a{' '}
        {m.captureTokens}-token prompt)
      </dd>
      <dt>Largest weight</dt>
      <dd>
        {m.largestTensor.name}, {formatBytes(m.largestTensor.bytes)} as fp32
        {m.maxBufferBytes !== undefined ? ` (one GPU buffer here holds up to ${formatBytes(m.maxBufferBytes)})` : ''}
      </dd>
      <dt>This adapter</dt>
      <dd className={m.fits.ok ? 'ok' : 'error'}>{m.fits.ok ? 'can run it' : `cannot run it: ${m.fits.reason}`}</dd>
    </dl>
  );
}
