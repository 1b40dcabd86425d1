import { defineConfig } from 'vitest/config';
// @ts-expect-error plain JS helper shared with the scripts
import { gpuEnv } from './scripts/gpu-env.js';

// Workers are forked from this process: set the Vulkan/SwiftShader environment before they start.
Object.assign(process.env, gpuEnv());

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'wgpu-kernels', root: 'packages/wgpu-kernels', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'models', root: 'packages/models', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'analysis', root: 'packages/analysis', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'cli', root: 'apps/cli', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'web', root: 'apps/web', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'] } },
      {
        extends: true,
        test: { name: 'e2e', root: 'test', include: ['**/*.test.ts'], fileParallelism: false, globalSetup: ['support/e2e-global-setup.ts'] },
      },
    ],
  },
});
