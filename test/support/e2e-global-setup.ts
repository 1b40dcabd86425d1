/**
 * The e2e project's global setup: one `vite build` for all test files (each file copies it, see buildApp),
 * instead of one build per file.
 */
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { viteBuild } from './e2e-app.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The app built once for the e2e files (copied per file). */
    e2eBuild: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = viteBuild();
  project.provide('e2eBuild', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
