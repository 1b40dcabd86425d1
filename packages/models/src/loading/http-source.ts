/**
 * Files under a base URL: the hub's `${endpoint}/${repo}/resolve/${revision}/` layout or the bundled model
 * in public/. Whole files stream in one request each (cacheable with the Cache API, resumable with Range
 * from the received offset); headers and single tensors use Range requests.
 */
import { DownloadResumeError, HttpStatusError, LoadAbortedError, MissingFileError, NetworkError } from '../errors.js';
import type { ByteRange, FileSource, ReadOptions, StreamOptions } from './source.js';

/** The two Cache API methods used; `caches.open(...)` satisfies it, and so can a Node-side store. */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
}

export interface HttpSourceOptions {
  /** Words for messages; defaults to the base URL. */
  name?: string;
  fetch?: typeof fetch;
  /** Extra request headers, e.g. `{ Authorization: 'Bearer hf_…' }` for gated repos. */
  headers?: Record<string, string>;
  /** Aborts every request of this source (a per-call signal can be passed too). */
  signal?: AbortSignal;
  /** 'auto' (default): the Cache API when `globalThis.caches` exists; null: no cache. */
  cache?: CacheLike | null | 'auto';
  cacheName?: string;
  /** How many times an interrupted download is resumed before giving up (default 5). */
  maxResumes?: number;
  retryDelayMs?: number;
  preferredAccess?: 'ranges' | 'sequential';
}

export class HttpSource implements FileSource {
  readonly name: string;
  readonly preferredAccess: 'ranges' | 'sequential';
  readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly opts: HttpSourceOptions;
  private cachePromise: Promise<CacheLike | null> | undefined;
  /** Sizes learned from earlier responses (Content-Length, Content-Range), to spare HEAD requests. */
  private readonly knownSizes = new Map<string, number>();

  constructor(baseUrl: string, options: HttpSourceOptions = {}) {
    this.baseUrl = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.name = options.name ?? this.baseUrl;
    this.preferredAccess = options.preferredAccess ?? 'sequential';
    this.opts = options;
    // Bound: some runtimes throw "Illegal invocation" when fetch is called as a method of another object.
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  subfolder(name: string): HttpSource {
    return new HttpSource(`${this.baseUrl}${encodeURIComponent(name)}/`, { ...this.opts, name: `${this.name}/${name}` });
  }

  url(file: string): string {
    return this.baseUrl + encodeURIComponent(file);
  }

  async size(file: string, options?: ReadOptions): Promise<number | undefined> {
    const known = this.knownSizes.get(file);
    if (known !== undefined) return known;
    const cached = await this.cached(file);
    if (cached) return lengthOf(cached) ?? (await cached.blob()).size;
    const res = await this.request(file, 'HEAD', undefined, options?.signal);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new HttpStatusError(this.url(file), res.status);
    const n = lengthOf(res);
    if (n !== undefined) {
      this.knownSizes.set(file, n);
      return n;
    }
    // No length on HEAD (some static servers): ask for one byte and read the total from Content-Range.
    const probe = await this.request(file, 'GET', { start: 0, end: 1 }, options?.signal);
    await probe.body?.cancel();
    return totalFromContentRange(probe) ?? lengthOf(probe);
  }

  async read(file: string, range?: ByteRange, options?: ReadOptions): Promise<Uint8Array> {
    const signal = options?.signal;
    if (range && range.end <= range.start) return new Uint8Array(0);
    const cached = await this.cached(file);
    if (cached) {
      const blob = await cached.blob();
      return new Uint8Array(await (range ? blob.slice(range.start, range.end) : blob).arrayBuffer());
    }
    const res = await this.request(file, 'GET', range, signal);
    if (res.status === 416) return new Uint8Array(0); // the range starts past the end: the file is shorter
    this.check(file, res);
    this.learnSize(file, res);
    if (!range || res.status === 206) return new Uint8Array(await this.body(file, res, signal));
    // The server ignored Range (200, whole file): read up to `end`, keep [start, end), drop the rest.
    return this.sliceOfFullBody(file, res, range, signal);
  }

  async *stream(file: string, options?: StreamOptions): AsyncIterable<Uint8Array> {
    const signal = this.signal(options?.signal);
    const cached = await this.cached(file);
    if (cached) {
      const total = lengthOf(cached);
      let loaded = 0;
      for await (const chunk of readChunks(cached, this.url(file), signal)) {
        loaded += chunk.byteLength;
        options?.onProgress?.(loaded, total);
        yield chunk;
      }
      return;
    }
    const url = this.url(file);
    let res = await this.request(file, 'GET', undefined, signal);
    this.check(file, res);
    const total = lengthOf(res);
    if (total !== undefined) this.knownSizes.set(file, total);
    const etag = res.headers.get('etag');
    const sink = await this.cacheSink(file, total);
    let received = 0;
    let resumes = 0;
    let complete = false;
    try {
      for (;;) {
        try {
          for await (const chunk of readChunks(res, url, signal)) {
            received += chunk.byteLength;
            await sink?.write(chunk);
            options?.onProgress?.(received, total);
            yield chunk;
          }
          if (total === undefined || received >= total) break;
          // A clean end before Content-Length: the connection closed early; resume like any interruption.
        } catch (e) {
          if (e instanceof LoadAbortedError || signal?.aborted) throw e instanceof LoadAbortedError ? e : new LoadAbortedError(file);
          if (!(e instanceof NetworkError)) throw e;
        }
        if (++resumes > (this.opts.maxResumes ?? 5)) {
          throw new DownloadResumeError(
            url,
            received,
            total,
            `it was interrupted ${resumes} time${resumes === 1 ? '' : 's'}, more than the ${this.opts.maxResumes ?? 5} resumes allowed`,
          );
        }
        await delay(this.opts.retryDelayMs ?? 200 * resumes, signal, file);
        res = await this.resume(file, received, total, etag, signal);
      }
      complete = true;
      await sink?.close();
    } finally {
      // Errors, aborts and a consumer that stops early all end here: the partial file must not be cached.
      if (!complete) sink?.abort(new LoadAbortedError(file));
    }
  }

  /**
   * Re-requests `bytes=received-`; anything but a 206 starting exactly there, for the same file version,
   * means resume is impossible. The version is compared here rather than sent as If-Range: that header is
   * not CORS-safelisted and would cost a preflight the hub may refuse.
   */
  private async resume(file: string, received: number, total: number | undefined, etag: string | null, signal?: AbortSignal): Promise<Response> {
    const url = this.url(file);
    let res: Response;
    try {
      res = await this.request(file, 'GET', { start: received, end: Number.POSITIVE_INFINITY }, signal);
    } catch (e) {
      if (e instanceof NetworkError) throw new DownloadResumeError(url, received, total, `the server could not be reached again (${e.message})`);
      throw e;
    }
    if (res.status === 200) {
      await res.body?.cancel();
      throw new DownloadResumeError(url, received, total, 'the server does not support range requests (or the file changed)');
    }
    if (res.status !== 206) {
      await res.body?.cancel();
      throw new DownloadResumeError(url, received, total, `the server answered HTTP ${res.status} to the range request`);
    }
    const start = startFromContentRange(res);
    const nowEtag = res.headers.get('etag');
    const reason =
      start !== received
        ? `the server sent bytes from ${start ?? 'an unknown offset'} instead of ${received}`
        : etag && nowEtag && nowEtag !== etag
          ? 'the file changed on the server during the download'
          : undefined;
    if (reason) {
      await res.body?.cancel();
      throw new DownloadResumeError(url, received, total, reason);
    }
    return res;
  }

  private async sliceOfFullBody(file: string, res: Response, range: ByteRange, signal?: AbortSignal): Promise<Uint8Array> {
    const out = new Uint8Array(range.end - range.start);
    let pos = 0;
    let filled = 0;
    const reader = res.body?.getReader();
    try {
      while (reader && filled < out.length) {
        const { done, value } = await reader.read();
        if (done) break;
        const from = Math.max(0, range.start - pos);
        const to = Math.min(value.byteLength, range.end - pos);
        if (to > from) {
          out.set(value.subarray(from, to), filled);
          filled += to - from;
        }
        pos += value.byteLength;
      }
    } catch (e) {
      throw toNetworkError(e, this.url(file), signal, file);
    } finally {
      await reader?.cancel().catch(() => {});
    }
    return filled === out.length ? out : out.subarray(0, filled);
  }

  private async body(file: string, res: Response, signal?: AbortSignal): Promise<ArrayBuffer> {
    try {
      return await res.arrayBuffer();
    } catch (e) {
      throw toNetworkError(e, this.url(file), signal, file);
    }
  }

  private async request(file: string, method: 'GET' | 'HEAD', range?: ByteRange, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { ...this.opts.headers };
    if (range) headers['Range'] = `bytes=${range.start}-${Number.isFinite(range.end) ? range.end - 1 : ''}`;
    const s = this.signal(signal);
    if (s?.aborted) throw new LoadAbortedError(file);
    try {
      return await this.fetchFn(this.url(file), { method, headers, ...(s ? { signal: s } : {}) });
    } catch (e) {
      throw toNetworkError(e, this.url(file), s, file);
    }
  }

  private check(file: string, res: Response): void {
    if (res.status === 404) throw new MissingFileError(file, this.name);
    if (!res.ok) throw new HttpStatusError(this.url(file), res.status);
  }

  private learnSize(file: string, res: Response): void {
    const n = res.status === 206 ? totalFromContentRange(res) : lengthOf(res);
    if (n !== undefined) this.knownSizes.set(file, n);
  }

  private signal(extra?: AbortSignal): AbortSignal | undefined {
    const own = this.opts.signal;
    if (!own || !extra) return own ?? extra;
    return AbortSignal.any([own, extra]);
  }

  private getCache(): Promise<CacheLike | null> {
    if (!this.cachePromise) {
      // `null` means no cache at all; only a missing option means 'auto'.
      const c = this.opts.cache === undefined ? 'auto' : this.opts.cache;
      if (c !== 'auto') this.cachePromise = Promise.resolve(c);
      else {
        const storage = (globalThis as { caches?: CacheStorage }).caches;
        this.cachePromise = storage ? storage.open(this.opts.cacheName ?? 'headscope-models').catch(() => null) : Promise.resolve(null);
      }
    }
    return this.cachePromise;
  }

  private async cached(file: string): Promise<Response | undefined> {
    const cache = await this.getCache();
    const hit = await cache?.match(this.url(file));
    return hit?.ok ? hit : undefined;
  }

  /**
   * Feeds the downloaded chunks to cache.put as a streamed Response, so the cache fills while the model
   * loads without a second copy of the file in memory. A failed or partial download never reaches the cache.
   */
  private async cacheSink(file: string, total: number | undefined): Promise<CacheSink | undefined> {
    const cache = await this.getCache();
    if (!cache) return undefined;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (total !== undefined) headers['content-length'] = String(total);
    // Cache failures (quota, private mode) must not fail the load: the model still streams to the GPU.
    const put = cache.put(this.url(file), new Response(readable, { headers })).catch(() => {});
    let broken = false;
    return {
      // Waits for the cache to take the previous chunk, so a slow disk cannot make chunks pile up in memory.
      write: async (chunk) => {
        if (broken) return;
        try {
          await writer.ready;
          writer.write(chunk).catch(() => {
            broken = true;
          });
        } catch {
          broken = true;
        }
      },
      close: async () => {
        await writer.close().catch(() => {});
        await put;
      },
      abort: (reason) => void writer.abort(reason).catch(() => {}),
    };
  }
}

interface CacheSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason: unknown): void;
}

async function* readChunks(res: Response, url: string, signal: AbortSignal | undefined): AsyncIterable<Uint8Array> {
  const reader = res.body?.getReader();
  if (!reader) return;
  let finished = false;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw toNetworkError(e, url, signal, url);
      }
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}

function toNetworkError(e: unknown, url: string, signal: AbortSignal | undefined, what: string): Error {
  if (e instanceof LoadAbortedError || signal?.aborted || (e as { name?: string } | null)?.name === 'AbortError') return new LoadAbortedError(what);
  if (e instanceof NetworkError) return e;
  const err = e as { message?: string; cause?: { code?: string; message?: string } } | null;
  const detail = [err?.message, err?.cause?.code ?? err?.cause?.message].filter(Boolean).join(': ') || String(e);
  return new NetworkError(url, detail, { cause: e });
}

function lengthOf(res: Response): number | undefined {
  const enc = res.headers.get('content-encoding');
  // Compressed bodies: Content-Length counts compressed bytes, not what the reader delivers.
  if (enc && enc !== 'identity') return undefined;
  const v = res.headers.get('x-linked-size') ?? res.headers.get('content-length');
  const n = v === null ? Number.NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function totalFromContentRange(res: Response): number | undefined {
  const m = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : undefined;
}

function startFromContentRange(res: Response): number | undefined {
  const m = /^bytes\s+(\d+)-/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : undefined;
}

function delay(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LoadAbortedError(what));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new LoadAbortedError(what));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
