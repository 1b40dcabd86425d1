/** Whether this browser can run models: the adapter in use, or why WebGPU is unavailable and what to do. */
import type { UseQueryResult } from '@tanstack/react-query';
import type { GpuProbe } from '../engine/protocol.js';
import { formatBytes } from '../lib/format.js';

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
  return (
    <p className="gpu" title={p.adapter.features.join(', ')}>
      WebGPU: {p.adapter.description}, {formatBytes(p.adapter.maxBufferBytes)} per buffer · everything runs on this machine.
    </p>
  );
}
