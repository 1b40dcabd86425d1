/** Where models run: the WebGPU adapter in use, or the CPU path and why WebGPU is unavailable, or why nothing can run. */
import type { UseQueryResult } from '@tanstack/react-query';
import type { GpuProbe } from '../engine/protocol.js';
import { formatBytes, formatCount } from '../lib/format.js';

export function GpuBanner({ probe }: { probe: UseQueryResult<GpuProbe, Error> }) {
  if (probe.isPending) return <p className="gpu">Looking for a WebGPU adapter…</p>;
  if (probe.isError)
    return (
      <p role="alert" className="gpu error">
        The engine could not start: {probe.error.message}
      </p>
    );
  const p = probe.data;
  if (!p.ok) {
    return (
      <div role="alert" className="gpu error">
        <p>
          <strong>This browser cannot run models here.</strong> {p.error.message}
        </p>
      </div>
    );
  }
  if (p.backend === 'cpu') {
    return (
      <div role="status" aria-label="Backend" className="gpu cpu">
        <p>
          <strong>Running on the CPU</strong> (no WebGPU: {p.reason}). Models up to {formatCount(p.maxParameters)} parameters run here, more slowly. {p.fix}
        </p>
      </div>
    );
  }
  return (
    <p className="gpu" title={p.adapter.features.join(', ')}>
      WebGPU: {p.adapter.description}, {formatBytes(p.adapter.maxBufferBytes)} per buffer · everything runs on this machine.
    </p>
  );
}
