/** Reading transformers reference outputs (fixtures, the bundled model's reference) and comparing with them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { streamTensors } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';

export type TensorMap = Map<string, { shape: number[]; data: Float32Array | Int32Array }>;

export async function readTensors(dir: string, file = 'reference.safetensors'): Promise<TensorMap> {
  const tensors: TensorMap = new Map();
  for await (const t of streamTensors(new NodeDirSource(dir), [file])) tensors.set(t.name, { shape: t.shape, data: t.data });
  return tensors;
}

export interface FixtureReference {
  prompt: string;
  bos_prepended: boolean;
  input_ids: number[];
  tensors: TensorMap;
}

/** A fixture's reference.json and reference.safetensors (tools/reference/make_fixtures.py). */
export async function readFixtureReference(dir: string): Promise<FixtureReference> {
  const meta = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Omit<FixtureReference, 'tensors'>;
  return { prompt: meta.prompt, bos_prepended: meta.bos_prepended, input_ids: meta.input_ids, tensors: await readTensors(dir) };
}

/** Max |a − b| (NaN counts as infinitely wrong); the lengths must agree. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(m, d);
  }
  return m;
}
