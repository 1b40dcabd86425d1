/** What a model is and what it needs, shown before a download (inspection) and after loading. */
import type { FeatureName, LoadedSummary, ModelSummary } from '../engine/protocol.js';
import { formatBytes, formatCount } from '../lib/format.js';

const FEATURE_LABEL: Record<FeatureName, string> = {
  interventions: 'Interventions (calibration, masking, ablation)',
  'kv-decoding': 'Token-by-token decoding',
  weights: 'Weight-space analyses',
};

export function ModelFacts({ m }: { m: ModelSummary | LoadedSummary }) {
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
        {formatBytes((m.gpuWeights?.bytes ?? m.fp32Bytes) + m.captureBytes)}:{' '}
        {m.gpuWeights
          ? `${formatBytes(m.gpuWeights.bytes)} weights as ${m.gpuWeights.as} (${formatBytes(m.fp32Bytes)} as fp32)`
          : `${formatBytes(m.fp32Bytes)} weights as fp32`}{' '}
        + {formatBytes(m.captureBytes)} attention for a {m.captureTokens}-token prompt
      </dd>
      <dt>Largest weight</dt>
      <dd>
        {m.largestTensor.name}, {formatBytes(m.largestTensor.bytes)} as {m.largestTensor.as ?? 'fp32'}
        {m.maxBufferBytes !== undefined ? ` (one GPU buffer here holds up to ${formatBytes(m.maxBufferBytes)})` : ''}
      </dd>
      <dt>This adapter</dt>
      <dd className={m.fits.ok ? 'ok' : 'error'}>{m.fits.ok ? 'can run it' : `cannot run it: ${m.fits.reason}`}</dd>
      {m.format === 'onnx' && (
        <>
          <dt>Format</dt>
          <dd>ONNX export, run by onnxruntime-web; attention read from each layer's Softmax</dd>
        </>
      )}
      {'runtime' in m && m.runtime && (
        <>
          <dt>Runs on</dt>
          <dd data-testid="model-runtime">{m.runtime}</dd>
        </>
      )}
      {m.unavailable?.length ? (
        <>
          <dt>Not available</dt>
          <dd>
            <ul className="unavailable" aria-label="Not available for this model">
              {m.unavailable.map((u) => (
                <li key={u.feature} aria-disabled="true">
                  {FEATURE_LABEL[u.feature]}: {u.reason}
                </li>
              ))}
            </ul>
          </dd>
        </>
      ) : null}
    </dl>
  );
}
