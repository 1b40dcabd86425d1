export * from './kernels/layer-norm.js';
export * from './kernels/layer-norm.ref.js';
export { BufferPool } from './runtime/buffer-pool.js';
export * from './runtime/context.js';
export * from './runtime/errors.js';
export { PipelineCache } from './runtime/pipeline-cache.js';
export { type PassTiming, Profiler } from './runtime/profiler.js';
export * from './runtime/tensor.js';
export * from './runtime/usage.js';
