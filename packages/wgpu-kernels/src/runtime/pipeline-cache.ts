/**
 * Compiles each WGSL source once and each (source, entry point) pipeline once. Kernels pass their
 * generated WGSL; identical text hits the cache, so specialisations are just different strings.
 */
export class PipelineCache {
  /** Keyed by the source itself: no per-dispatch key building (memoised generators return the same string). */
  private readonly modules = new Map<string, { module: GPUShaderModule; pipelines: Map<string, GPUComputePipeline> }>();

  constructor(
    private readonly device: GPUDevice,
    private readonly onCompileError: (kernel: string, message: string) => void,
  ) {}

  get(kernel: string, code: string, entryPoint = 'main'): GPUComputePipeline {
    let entry = this.modules.get(code);
    const hit = entry?.pipelines.get(entryPoint);
    if (hit) return hit;
    if (!entry) {
      this.device.pushErrorScope('validation');
      entry = { module: this.device.createShaderModule({ code, label: kernel }), pipelines: new Map() };
      this.modules.set(code, entry);
      this.device.popErrorScope().then((err) => {
        if (err) this.onCompileError(kernel, err.message);
      });
    }
    const module = entry.module;
    this.device.pushErrorScope('validation');
    const pipeline = this.device.createComputePipeline({
      label: kernel,
      layout: 'auto',
      compute: { module, entryPoint },
    });
    this.device.popErrorScope().then((err) => {
      if (err) this.onCompileError(kernel, err.message);
    });
    entry.pipelines.set(entryPoint, pipeline);
    return pipeline;
  }

  /** Pipelines built so far. */
  get size(): number {
    let n = 0;
    for (const e of this.modules.values()) n += e.pipelines.size;
    return n;
  }
}
