/**
 * A model folder on disk (Node only: imports node:fs, so it is kept out of the browser barrel). Reads are
 * positioned reads into fresh buffers, so one tensor costs its own size and nothing more.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LoadAbortedError, MissingFileError } from '../errors.js';
import { type ByteRange, type FileSource, isPlainFileName, type ReadOptions, type StreamOptions } from './source.js';

export class NodeDirSource implements FileSource {
  readonly name: string;
  readonly preferredAccess = 'ranges' as const;
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.name = `the folder ${this.dir}`;
  }

  subfolder(name: string): NodeDirSource {
    return new NodeDirSource(join(this.dir, isPlainFileName(name) ? name : '.invalid'));
  }

  async list(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => e.name);
  }

  async size(file: string): Promise<number | undefined> {
    if (!isPlainFileName(file)) return undefined;
    try {
      const s = await stat(join(this.dir, file));
      return s.isFile() ? s.size : undefined;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async read(file: string, range?: ByteRange, options?: ReadOptions): Promise<Uint8Array> {
    checkAbort(options?.signal, file);
    const handle = await this.openFile(file);
    try {
      const size = (await handle.stat()).size;
      const start = Math.min(range?.start ?? 0, size);
      const end = Math.min(range?.end ?? size, size);
      // A fresh, unpooled buffer: callers view it as Float32Array/Uint16Array, which needs offset 0.
      const out = new Uint8Array(Math.max(0, end - start));
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === out.length ? out : out.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async *stream(file: string, options?: StreamOptions): AsyncIterable<Uint8Array> {
    const total = await this.size(file);
    if (total === undefined) throw new MissingFileError(file, this.name);
    const signal = options?.signal;
    const rs = createReadStream(join(this.dir, file), { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });
    let loaded = 0;
    try {
      for await (const chunk of rs as AsyncIterable<Uint8Array>) {
        loaded += chunk.byteLength;
        options?.onProgress?.(loaded, total);
        yield chunk;
      }
    } catch (e) {
      if (signal?.aborted) throw new LoadAbortedError(file);
      throw e;
    } finally {
      rs.destroy();
    }
  }

  private async openFile(file: string) {
    if (!isPlainFileName(file)) throw new MissingFileError(file, this.name);
    try {
      return await open(join(this.dir, file), 'r');
    } catch (e) {
      if (isNotFound(e)) throw new MissingFileError(file, this.name);
      throw e;
    }
  }
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function checkAbort(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new LoadAbortedError(what);
}
