// Environment that lets Dawn (npm `webgpu`) find a Vulkan driver. On machines without a GPU it points
// at the SwiftShader ICD that Debian's chromium ships. Must be in place before a Node process starts
// (the dynamic linker reads LD_LIBRARY_PATH at start-up), so callers spawn children with it.
import { existsSync } from 'node:fs';

export function gpuEnv(base = process.env) {
  const env = { ...base };
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  const hasDriverChoice = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES;
  if (!hasDriverChoice && env.HEADSCOPE_GPU !== 'native' && existsSync(swiftshader)) {
    env.VK_ICD_FILENAMES = swiftshader;
    env.LD_LIBRARY_PATH = ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return env;
}
