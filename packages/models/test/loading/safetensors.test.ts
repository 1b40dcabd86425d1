import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LoadAbortedError,
  type ModelLoadError,
  SafetensorsHeaderJsonError,
  SafetensorsHeaderLengthError,
  SafetensorsOffsetsError,
  SafetensorsTruncatedError,
} from '../../src/errors.js';
import { BrowserFilesSource } from '../../src/loading/browser-files-source.js';
import { NodeDirSource } from '../../src/loading/node-dir-source.js';
import { readSafetensorsHeader } from '../../src/loading/safetensors.js';
import type { ByteRange, FileSource, ReadOptions, StreamOptions } from '../../src/loading/source.js';
import { type RawTensor, streamTensors } from '../../src/loading/stream-tensors.js';
import { buildSafetensors, type Entry, f32, i64, randomFloats, u16 } from '../helpers/safetensors.js';

function dirWith(files: Record<string, Uint8Array>): NodeDirSource {
  const dir = mkdtempSync(join(tmpdir(), 'headscope-st-'));
  for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
  return new NodeDirSource(dir);
}

async function collect(source: FileSource, files: string[], access: 'ranges' | 'sequential' = 'ranges'): Promise<RawTensor[]> {
  const out: RawTensor[] = [];
  for await (const t of streamTensors(source, files, { access })) out.push(t);
  return out;
}

/** Counts what a real source is asked for (instrumentation around it, not a stand-in). */
class CountingSource implements FileSource {
  reads: (ByteRange | undefined)[] = [];
  streams = 0;
  constructor(readonly inner: FileSource) {}
  get name() {
    return this.inner.name;
  }
  get preferredAccess() {
    return this.inner.preferredAccess;
  }
  size(file: string) {
    return this.inner.size(file);
  }
  read(file: string, range?: ByteRange, o?: ReadOptions) {
    this.reads.push(range);
    return this.inner.read(file, range, o);
  }
  stream(file: string, o?: StreamOptions) {
    this.streams++;
    return this.inner.stream(file, o);
  }
}

const mixed: Entry[] = [
  f32('a.f32', [2, 3], [1, -2, 3.5, 0, 1e-30, -1e30]),
  u16('b.f16', 'F16', [4], [0x3c00, 0x0001, 0x7c00, 0x8000]),
  u16('c.bf16', 'BF16', [2, 2], [0x3f80, 0xc040, 0xff80, 0x0001]),
  i64('d.i64', [3], [0n, 1n, -5n]),
  f32('e.empty', [0, 4], []),
];

describe('streamTensors on real safetensors bytes', () => {
  const bytes = buildSafetensors(mixed, { metadata: { format: 'pt' }, align: 8 });

  for (const access of ['ranges', 'sequential'] as const) {
    it(`decodes F32/F16/BF16/I64 and empty tensors (${access}, disk)`, async () => {
      const ts = await collect(dirWith({ 'm.safetensors': bytes }), ['m.safetensors'], access);
      expect(ts.map((t) => t.name)).toEqual(['a.f32', 'b.f16', 'c.bf16', 'd.i64', 'e.empty']);
      expect([...ts[0]!.data]).toEqual([1, -2, 3.5, 0, Math.fround(1e-30), Math.fround(-1e30)]);
      expect(ts[0]!.shape).toEqual([2, 3]);
      expect([...ts[1]!.data]).toEqual([1, 2 ** -24, Number.POSITIVE_INFINITY, -0]);
      expect([...ts[2]!.data]).toEqual([1, -3, Number.NEGATIVE_INFINITY, 2 ** -133]);
      expect(ts[3]!.dtype).toBe('I64');
      expect(ts[3]!.data).toBeInstanceOf(Int32Array);
      expect([...ts[3]!.data]).toEqual([0, 1, -5]);
      expect(ts[4]!.data.length).toBe(0);
    });
  }

  it('reads the same from browser File objects', async () => {
    const source = new BrowserFilesSource([new File([bytes], 'folder/m.safetensors')]);
    for (const access of ['ranges', 'sequential'] as const) {
      const ts = await collect(source, ['m.safetensors'], access);
      expect([...ts[2]!.data]).toEqual([1, -3, Number.NEGATIVE_INFINITY, 2 ** -133]);
    }
  });

  it('returns the header metadata and sorts tensors by offset', async () => {
    const h = await readSafetensorsHeader(dirWith({ 'm.safetensors': bytes }), 'm.safetensors');
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.dataStart % 8).toBe(0);
    expect(h.tensors.map((t) => t.begin)).toEqual([...h.tensors.map((t) => t.begin)].sort((a, b) => a - b));
  });

  it('reads only the wanted tensor ranges with random access, one pass without', async () => {
    const big = randomFloats(10_000, 3);
    const file = buildSafetensors([f32('big', [100, 100], big), f32('small', [2], [7, 8])]);
    const src = new CountingSource(dirWith({ 'm.safetensors': file }));
    const got: RawTensor[] = [];
    for await (const t of streamTensors(src, ['m.safetensors'], { filter: (t) => t.name === 'small' })) got.push(t);
    expect(got.map((t) => [t.name, [...t.data]])).toEqual([['small', [7, 8]]]);
    // 8-byte length, header, then the 8 bytes of "small": the 40 kB tensor is never read.
    const sizes = src.reads.map((r) => (r ? r.end - r.start : -1));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(200);
    expect(src.streams).toBe(0);

    const seq = new CountingSource(dirWith({ 'm.safetensors': file }));
    const all: RawTensor[] = [];
    for await (const t of streamTensors(seq, ['m.safetensors'], { access: 'sequential' })) all.push(t);
    expect(seq.streams).toBe(1);
    expect(seq.reads).toEqual([]);
    expect(all[0]!.data).toEqual(big);
  });

  it('reports progress up to the bytes read', async () => {
    const events: number[] = [];
    for await (const _ of streamTensors(dirWith({ 'm.safetensors': bytes }), ['m.safetensors'], { onProgress: (p) => events.push(p.loaded) })) {
      // drain
    }
    expect(events.at(-1)).toBe(bytes.byteLength);
    expect(events).toEqual([...events].sort((a, b) => a - b));
  });

  it('stops with LoadAbortedError when the signal fires', async () => {
    const ac = new AbortController();
    const it = streamTensors(dirWith({ 'm.safetensors': bytes }), ['m.safetensors'], { signal: ac.signal });
    await it.next();
    ac.abort();
    await expect(it.next()).rejects.toBeInstanceOf(LoadAbortedError);
  });
});

describe('bad safetensors files fail with typed errors', () => {
  const good: Entry[] = [f32('x', [2, 2], [1, 2, 3, 4]), f32('y', [3], [5, 6, 7])];
  const cases: [string, Uint8Array, new (...a: never[]) => ModelLoadError][] = [
    ['shorter than 8 bytes', new Uint8Array([1, 2, 3]), SafetensorsTruncatedError],
    ['header length beyond the file', buildSafetensors(good, { headerLength: 10_000n }), SafetensorsHeaderLengthError],
    ['absurd header length', buildSafetensors(good, { headerLength: 2n ** 40n }), SafetensorsHeaderLengthError],
    ['header not JSON', buildSafetensors(good, { headerText: '{"x": {"dtype": "F32", ' }), SafetensorsHeaderJsonError],
    ['header not an object', buildSafetensors([], { headerText: '[1, 2]' }), SafetensorsHeaderJsonError],
    ['entry without shape', buildSafetensors(good, { editHeader: (h) => delete (h['x'] as Record<string, unknown>)['shape'] }), SafetensorsHeaderJsonError],
    [
      'offsets not matching dtype × shape',
      buildSafetensors(good, { editHeader: (h) => ((h['x'] as Record<string, unknown>)['shape'] = [2, 3]) }),
      SafetensorsOffsetsError,
    ],
    [
      'overlapping tensors',
      buildSafetensors(good, { editHeader: (h) => ((h['y'] as Record<string, unknown>)['data_offsets'] = [8, 20]) }),
      SafetensorsOffsetsError,
    ],
    [
      'begin after end',
      buildSafetensors(good, { editHeader: (h) => ((h['y'] as Record<string, unknown>)['data_offsets'] = [28, 16]) }),
      SafetensorsOffsetsError,
    ],
    [
      'offsets past the data',
      buildSafetensors(good, { editHeader: (h) => ((h['y'] as Record<string, unknown>)['data_offsets'] = [100, 112]) }),
      SafetensorsOffsetsError,
    ],
    ['data cut short', buildSafetensors(good).subarray(0, buildSafetensors(good).byteLength - 5), SafetensorsTruncatedError],
  ];

  for (const [label, bytes, ErrorClass] of cases) {
    for (const access of ['ranges', 'sequential'] as const) {
      it(`${label} (${access})`, async () => {
        const err = await collect(dirWith({ 'm.safetensors': bytes }), ['m.safetensors'], access).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ErrorClass);
        expect((err as ModelLoadError).fix.length).toBeGreaterThan(10);
        expect((err as ModelLoadError).message).toContain('m.safetensors');
      });
    }
  }

  it('names the overlap and the size mismatch precisely', async () => {
    const overlap = buildSafetensors(good, { editHeader: (h) => ((h['y'] as Record<string, unknown>)['data_offsets'] = [8, 20]) });
    const e = (await collect(dirWith({ 'm.safetensors': overlap }), ['m.safetensors']).catch((x: unknown) => x)) as SafetensorsOffsetsError;
    expect(e.problem).toBe('overlap');
    expect(e.tensor).toBe('y');
  });
});
