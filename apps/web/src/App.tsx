import { type AdapterReport, GpuContext } from '@headscope/wgpu-kernels';
import { useEffect, useState } from 'react';

type GpuState = { status: 'probing' } | { status: 'ready'; adapter: AdapterReport } | { status: 'unavailable'; message: string };

/** The shell of the workbench: for now it reports whether this browser can run models on WebGPU. */
export function App() {
  const [gpu, setGpu] = useState<GpuState>({ status: 'probing' });
  useEffect(() => {
    let ctx: GpuContext | undefined;
    GpuContext.acquire().then(
      (c) => {
        ctx = c;
        setGpu({ status: 'ready', adapter: c.adapter });
      },
      (e: unknown) => setGpu({ status: 'unavailable', message: e instanceof Error ? e.message : String(e) }),
    );
    return () => ctx?.destroy();
  }, []);
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: '1.5rem', maxWidth: 760 }}>
      <h1>Headscope</h1>
      <p>A workbench for attention heads in small language models, running on your GPU through WebGPU.</p>
      <section aria-live="polite" aria-label="GPU status">
        {gpu.status === 'probing' && <p>Looking for a WebGPU adapter…</p>}
        {gpu.status === 'unavailable' && <p role="alert">{gpu.message}</p>}
        {gpu.status === 'ready' && (
          <p>
            WebGPU ready: {[gpu.adapter.vendor, gpu.adapter.architecture].filter(Boolean).join(' ') || 'adapter'}, up to{' '}
            {(gpu.adapter.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB per buffer.
          </p>
        )}
      </section>
    </main>
  );
}
