/**
 * A 262k-vocabulary checkpoint shaped as Gemma-3-270M, read by its headers only (the weight file is sparse:
 * no data was written): what the model picker shows before any download must say that the 262,144 × 640
 * embedding fits one GPU binding of 1 GiB as fp32 (512 MiB kept as bf16), and name it when a smaller limit refuses the model.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelTooLargeError } from '../../src/errors.js';
import { parseModelConfig } from '../../src/families/registry.js';
import { checkLimits, inspectModel, type ModelInspection } from '../../src/loading/inspect.js';
import { NodeDirSource } from '../../src/loading/node-dir-source.js';
import { GEMMA3_270M } from '../helpers/configs.js';

const MiB = 2 ** 20;
let dir: string;
let report: ModelInspection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gemma3-270m-'));
  const { spec, config } = parseModelConfig(GEMMA3_270M);
  // Every checkpoint tensor the spec reads, in bfloat16 as released (the tied embedding is stored once).
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const m of spec.tensors(config)) {
    const name = m.source[0]!;
    if (header[name]) continue;
    const bytes = 2 * m.sourceShape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'BF16', shape: m.sourceShape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(8 + json.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  prefix.set(json, 8);
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  writeSync(fd, prefix);
  writeSync(fd, new Uint8Array(1), 0, 1, prefix.length + offset - 1); // sparse up to the declared size
  closeSync(fd);
  writeFileSync(join(dir, 'config.json'), GEMMA3_270M);
  report = await inspectModel(new NodeDirSource(dir));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Gemma-3-270M-shaped checkpoint: size report before download', () => {
  it('counts 268M parameters, a 536 MB bf16 download, and the tied embedding once as fp32', () => {
    expect(report.parameters).toBe(268_098_176);
    expect(report.checkpointBytes).toBeGreaterThan(2 * report.parameters);
    expect(report.fp32Bytes).toBe(4 * report.parameters);
  });

  it('the largest weight is embed.W_E, 640 MiB as fp32 and 320 MiB kept as bf16: inside 512 MiB, refused (by name) under 256 MiB', async () => {
    expect(report.largestTensor).toEqual({ name: 'embed.W_E', shape: [262144, 640], bytes: 640 * MiB });
    expect(report.largestStored).toEqual({ name: 'embed.W_E', shape: [262144, 640], bytes: 320 * MiB, dtype: 'bf16' });
    expect(() => checkLimits(report, { maxBufferBytes: 512 * MiB })).not.toThrow();
    const refusal = (r: ModelInspection, limit: number): Error => {
      try {
        checkLimits(r, { maxBufferBytes: limit });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a refusal');
    };
    const err = refusal(report, 256 * MiB);
    expect(err).toBeInstanceOf(ModelTooLargeError);
    expect(err.message).toContain('embed.W_E');
    expect(err.message).toContain('262144, 640');
    expect(err.message).toContain('needs 336 MB as bf16');
    // Widened to fp32 it needs the whole 640 MiB: refused under 512 MiB as before.
    const f32 = await inspectModel(new NodeDirSource(dir), { weightPrecision: 'f32' });
    expect(() => checkLimits(f32, { maxBufferBytes: 1024 * MiB })).not.toThrow();
    expect(refusal(f32, 512 * MiB).message).toContain('as fp32');
  });
});
