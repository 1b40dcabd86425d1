/**
 * Node entry: WebGPU through Dawn (npm `webgpu`). Browser code never imports this file.
 * On machines without a GPU, Dawn finds SwiftShader when VK_ICD_FILENAMES / LD_LIBRARY_PATH point at
 * Chromium's copy (scripts/gpu-env.mjs sets them before Node starts).
 */
import { create } from 'webgpu';
import { type AcquireOptions, GpuContext } from './runtime/context.js';

let instance: GPU | undefined;

export function nodeGpu(): GPU {
  instance ??= create([]) as GPU;
  return instance;
}

export function createNodeContext(options: Omit<AcquireOptions, 'gpu'> = {}): Promise<GpuContext> {
  return GpuContext.acquire({ ...options, gpu: nodeGpu() });
}
