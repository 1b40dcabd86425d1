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

/**
 * Max |a − b| over every layer's captured maps against the reference's `attn.{l}`, after checking each
 * reference map is [heads, T, T] (GPU and CPU conformance tests alike).
 */
export async function maxAttentionDiff(
  attention: { layer(layer: number): Promise<Float32Array> },
  ref: FixtureReference,
  config: { nLayers: number; nHeads: number },
  T: number,
): Promise<number> {
  let err = 0;
  for (let l = 0; l < config.nLayers; l++) {
    const w = ref.tensors.get(`attn.${l}`)!;
    expect(w.shape).toEqual([config.nHeads, T, T]);
    err = Math.max(err, maxAbsDiff(await attention.layer(l), w.data));
  }
  return err;
}
