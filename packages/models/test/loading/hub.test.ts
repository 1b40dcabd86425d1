import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DownloadResumeError, InvalidRepoIdError, LoadAbortedError, MissingFileError, ModelTooLargeError } from '../../src/errors.js';
import type { CacheLike } from '../../src/loading/http-source.js';
import { bundledSource, hubSource, parseRepoId } from '../../src/loading/hub.js';
import { inspectModel } from '../../src/loading/inspect.js';
import { type CanonicalTensor, loadModelFiles } from '../../src/loading/load-model.js';
import { NodeDirSource } from '../../src/loading/node-dir-source.js';
import type { LoadProgress } from '../../src/loading/progress.js';
import { streamTensors } from '../../src/loading/stream-tensors.js';
import { hubPath, startServer, type TestServer } from '../helpers/http-server.js';
import { buildSafetensors, type Entry, f32, sameBits } from '../helpers/safetensors.js';

const BABYLLAMA = fileURLToPath(new URL('../../../../../shared/models/babyllama-tok105', import.meta.url));
const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];

let server: TestServer;
let reference: Map<string, CanonicalTensor>;
const shardBytes: Uint8Array[] = [];

async function collect(it: AsyncIterable<CanonicalTensor>): Promise<Map<string, CanonicalTensor>> {
  const m = new Map<string, CanonicalTensor>();
  for await (const t of it) m.set(t.name, t);
  return m;
}

function expectSameTensors(got: Map<string, CanonicalTensor>): void {
  expect([...got.keys()].sort()).toEqual([...reference.keys()].sort());
  for (const [k, v] of reference) expect(sameBits(got.get(k)!.data, v.data), k).toBe(true);
}

/** Serves babyllama re-sharded in two (real weights, real tokenizer) under a repo id and revision. */
function publish(repo: string, revision: string): void {
  const put = (file: string, bytes: Uint8Array) => server.files.set(hubPath(repo, revision, file), bytes);
  put('config.json', readFileSync(join(BABYLLAMA, 'config.json')));
  put('tokenizer.json', readFileSync(join(BABYLLAMA, 'tokenizer.json')));
  put('generation_config.json', new TextEncoder().encode(JSON.stringify({ bos_token_id: 1, eos_token_id: [2], do_sample: false })));
  const weightMap: Record<string, string> = {};
  SHARDS.forEach((s, i) => {
    put(s, shardBytes[i]!);
  });
  for (const [i, bytes] of shardBytes.entries()) {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    for (const name of Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))))) if (name !== '__metadata__') weightMap[name] = SHARDS[i]!;
  }
  put('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 3_745_792 }, weight_map: weightMap })));
}

const rangeLessGets = (file: string) => server.log.filter((r) => r.method === 'GET' && r.path.endsWith(`/${file}`) && r.range === undefined);

beforeAll(async () => {
  const disk = new NodeDirSource(BABYLLAMA);
  reference = await collect((await loadModelFiles(disk)).tensors);
  const entries: Entry[] = [];
  for await (const t of streamTensors(disk, ['model.safetensors'])) entries.push(f32(t.name, t.shape, t.data as Float32Array));
  const half = Math.ceil(entries.length / 2);
  shardBytes.push(
    buildSafetensors(entries.slice(0, half), { metadata: { format: 'pt' } }),
    buildSafetensors(entries.slice(half), { metadata: { format: 'pt' } }),
  );
  server = await startServer();
});

afterAll(() => server.close());

beforeEach(() => {
  server.files.clear();
  server.log.length = 0;
  server.noRanges = false;
  server.dropOnce.clear();
  server.chunkDelayMs = 0;
  publish('org/baby', 'main');
});

describe('hub repo ids', () => {
  it('parses owner/name[@revision]', () => {
    expect(parseRepoId('EleutherAI/pythia-70m')).toEqual({ repo: 'EleutherAI/pythia-70m', revision: 'main' });
    expect(parseRepoId('Qwen/Qwen2-0.5B@a1b2c3')).toEqual({ repo: 'Qwen/Qwen2-0.5B', revision: 'a1b2c3' });
    for (const bad of ['gpt2x', 'a/b/c', '../x/y', 'a/b@', ' /b']) expect(() => parseRepoId(bad)).toThrow(InvalidRepoIdError);
  });
});

describe('loading from a hub-layout HTTP server', () => {
  it('loads a sharded checkpoint with progress events; headers come by Range before any download', async () => {
    const events: LoadProgress[] = [];
    const source = hubSource('org/baby', { endpoint: server.url, cache: null });
    const loaded = await loadModelFiles(source, { onProgress: (p) => events.push(p) });
    expect(loaded.config.family).toBe('llama');
    expect(loaded.generationConfig?.raw['do_sample']).toBe(false);
    // Inspection: the first 8 bytes, then exactly the header, of each shard.
    for (const [i, s] of SHARDS.entries()) {
      const ranges = server.log.filter((r) => r.path.endsWith(s)).map((r) => r.range);
      const n = Number(new DataView(shardBytes[i]!.buffer).getBigUint64(0, true));
      expect(ranges).toEqual(['bytes=0-7', `bytes=8-${8 + n - 1}`]);
    }
    expectSameTensors(await collect(loaded.tensors));
    for (const s of SHARDS) expect(rangeLessGets(s)).toHaveLength(1);
    const total = shardBytes[0]!.byteLength + shardBytes[1]!.byteLength;
    expect(events.length).toBeGreaterThan(50);
    expect(events.every((e) => e.total === total)).toBe(true);
    expect(events.map((e) => e.loaded)).toEqual([...events.map((e) => e.loaded)].sort((a, b) => a - b));
    expect(events.at(-1)!.loaded).toBe(total);
    expect(events.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.file))).toEqual(new Set(SHARDS));
  });

  it('recognises the new model types: a multimodal gemma3 checkpoint (nested text_config) loads its text model from the hub', async () => {
    const dir = fileURLToPath(new URL('../../../../test/fixtures/models/gemma3_nested', import.meta.url));
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json'])
      server.files.set(hubPath('google/gemma-tiny', 'main', f), readFileSync(join(dir, f)));
    const loaded = await loadModelFiles(hubSource('google/gemma-tiny', { endpoint: server.url, cache: null }));
    expect(loaded.spec.family).toBe('gemma3');
    expect(loaded.config).toMatchObject({ modelType: 'gemma3', nLayers: 2, sublayerNorms: 'sandwich', qkNorm: 'head' });
    const names = new Set<string>();
    for await (const t of loaded.tensors) names.add(t.name);
    expect(names.has('blocks.1.attn.k_norm.w')).toBe(true);
    expect([...names].some((n) => n.includes('vision'))).toBe(false);
  });

  it('honours the revision and per-tensor Range reads', async () => {
    publish('org/baby', 'v1.0');
    const source = hubSource('org/baby@v1.0', { endpoint: `${server.url}/`, cache: null, preferredAccess: 'ranges' });
    expect(source.name).toMatch(/org\/baby@v1\.0$/);
    const loaded = await loadModelFiles(source);
    expectSameTensors(await collect(loaded.tensors));
    expect(server.log.every((r) => r.path.startsWith('/org/baby/resolve/v1.0/'))).toBe(true);
    for (const s of SHARDS) expect(rangeLessGets(s)).toHaveLength(0);
  });

  it('resumes an interrupted download with Range from the received offset', async () => {
    server.dropOnce.set(hubPath('org/baby', 'main', SHARDS[0]!), { bytes: 100_000, times: 1 });
    const loaded = await loadModelFiles(hubSource('org/baby', { endpoint: server.url, cache: null, retryDelayMs: 10 }));
    expectSameTensors(await collect(loaded.tensors));
    const resumed = server.log.filter((r) => r.path.endsWith(SHARDS[0]!) && r.range && /^bytes=\d+-$/.test(r.range));
    expect(resumed).toHaveLength(1);
    const from = Number(/^bytes=(\d+)-$/.exec(resumed[0]!.range!)![1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(100_000);
    expect(resumed[0]!.status).toBe(206);
  });

  it('fails cleanly with DownloadResumeError when the server refuses ranges', async () => {
    server.noRanges = true;
    server.dropOnce.set(hubPath('org/baby', 'main', SHARDS[1]!), { bytes: 50_000, times: 1 });
    // Inspection still works without ranges (it reads the start of the file and stops).
    const loaded = await loadModelFiles(hubSource('org/baby', { endpoint: server.url, cache: null, retryDelayMs: 10 }));
    const seen: string[] = [];
    const err = await (async () => {
      for await (const t of loaded.tensors) seen.push(t.name);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadResumeError);
    expect((err as DownloadResumeError).received).toBeGreaterThan(0);
    expect((err as DownloadResumeError).message).toMatch(/does not support range requests/);
    expect(seen.length).toBeGreaterThan(0); // the first shard came through before the failure
  });

  it('will not splice a file that changed on the server between the interruption and the resume', async () => {
    const path = hubPath('org/baby', 'main', SHARDS[0]!);
    server.dropOnce.set(path, { bytes: 100_000, times: 1 });
    let swapped = false;
    const loaded = await loadModelFiles(hubSource('org/baby', { endpoint: server.url, cache: null, retryDelayMs: 10 }), {
      onProgress: () => {
        if (swapped) return;
        swapped = true;
        const changed = shardBytes[0]!.slice();
        const mid = changed.byteLength >> 1;
        changed[mid] = changed[mid]! ^ 0xff; // a new version: different bytes, different ETag
        server.files.set(path, changed);
      },
    });
    const err = await collect(loaded.tensors).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadResumeError);
    expect((err as Error).message).toMatch(/changed on the server/);
  });

  it('refuses a model over the GPU limit after config + headers only', async () => {
    const err = await inspectModel(hubSource('org/baby', { endpoint: server.url, cache: null }), { maxBufferBytes: 64 * 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelTooLargeError);
    const header = expect.stringMatching(/^bytes=8-\d+$/);
    for (const s of SHARDS) expect(server.log.filter((r) => r.path.endsWith(s)).map((r) => r.range)).toEqual(['bytes=0-7', header]);
  });

  it('a missing repo or file is a typed error', async () => {
    await expect(loadModelFiles(hubSource('org/nothing', { endpoint: server.url, cache: null }))).rejects.toBeInstanceOf(MissingFileError);
  });

  it('aborts through the AbortSignal', async () => {
    server.chunkDelayMs = 5;
    const ac = new AbortController();
    const loaded = await loadModelFiles(hubSource('org/baby', { endpoint: server.url, cache: null, signal: ac.signal }), {
      onProgress: (p) => {
        if (p.loaded > 50_000) ac.abort();
      },
    });
    await expect(collect(loaded.tensors)).rejects.toBeInstanceOf(LoadAbortedError);
  });

  it('fills a cache on the first load and reads from it on the next, never caching a failed download', async () => {
    const cache = new MemoryCache();
    server.dropOnce.set(hubPath('org/baby', 'main', SHARDS[1]!), { bytes: 10_000, times: 10 });
    const failing = await loadModelFiles(hubSource('org/baby', { endpoint: server.url, cache, retryDelayMs: 1, maxResumes: 0 }));
    await expect(collect(failing.tensors)).rejects.toBeInstanceOf(DownloadResumeError);
    expect(cache.keys().some((k) => k.endsWith(SHARDS[1]!))).toBe(false);

    server.dropOnce.clear();
    await collect((await loadModelFiles(hubSource('org/baby', { endpoint: server.url, cache }))).tensors);
    expect(cache.keys().filter((k) => k.endsWith('.safetensors')).length).toBe(2);
    server.log.length = 0;
    const again = await loadModelFiles(hubSource('org/baby', { endpoint: server.url, cache }));
    expectSameTensors(await collect(again.tensors));
    expect(server.log.filter((r) => SHARDS.some((s) => r.path.endsWith(s)))).toEqual([]);
  });

  it('cache: null never touches the Cache API, even where one exists', async () => {
    const storage = new MemoryCache();
    const g = globalThis as { caches?: { open: (name: string) => Promise<CacheLike> } };
    g.caches = { open: async () => storage };
    try {
      await collect((await loadModelFiles(hubSource('org/baby', { endpoint: server.url, cache: null }))).tensors);
      expect(storage.keys()).toEqual([]);
      // Without the option the same load fills the browser's cache ('auto').
      await collect((await loadModelFiles(hubSource('org/baby', { endpoint: server.url }))).tensors);
      expect(storage.keys().length).toBeGreaterThan(0);
    } finally {
      delete g.caches;
    }
  });

  it('serves the bundled model from a plain base URL', async () => {
    for (const [path, bytes] of [...server.files]) server.files.set(path.replace('/org/baby/resolve/main/', '/models/baby/'), bytes);
    const loaded = await loadModelFiles(bundledSource(`${server.url}/models/baby`, { cache: null }));
    expect(loaded.inspection.source).toBe('the bundled model');
    expectSameTensors(await collect(loaded.tensors));
  });
});

/** A Cache API store kept in memory (Node has no `caches`): it stores what it is given, like the browser's. */
class MemoryCache implements CacheLike {
  private readonly store = new Map<string, { body: ArrayBuffer; headers: Headers }>();
  async match(url: string): Promise<Response | undefined> {
    const hit = this.store.get(url);
    return hit ? new Response(hit.body.slice(0), { headers: hit.headers }) : undefined;
  }
  async put(url: string, response: Response): Promise<void> {
    const body = await response.arrayBuffer();
    this.store.set(url, { body, headers: new Headers(response.headers) });
  }
  keys(): string[] {
    return [...this.store.keys()];
  }
}
