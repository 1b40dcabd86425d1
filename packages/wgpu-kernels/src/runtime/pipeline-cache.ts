/**
 * Compiles each WGSL source once and each (source, entry point) pipeline once. Kernels pass their
 * generated WGSL; identical text hits the cache, so specialisations are just different strings.
 */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly device: GPUDevice,
    private readonly onCompileError: (kernel: string, message: string) => void,
  ) {}

  get(kernel: string, code: string, entryPoint = 'main'): GPUComputePipeline {
    const key = `${entryPoint}\u0000${code}`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    let module = this.modules.get(code);
    if (!module) {
      this.device.pushErrorScope('validation');
      module = this.device.createShaderModule({ code, label: kernel });
      this.modules.set(code, module);
      this.device.popErrorScope().then((err) => {
        if (err) this.onCompileError(kernel, err.message);
      });
    }
    this.device.pushErrorScope('validation');
    const pipeline = this.device.createComputePipeline({
      label: kernel,
      layout: 'auto',
      compute: { module, entryPoint },
    });
    this.device.popErrorScope().then((err) => {
      if (err) this.onCompileError(kernel, err.message);
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
