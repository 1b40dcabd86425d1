/**
 * Files the user picked or dropped (a folder's `File[]`/FileList). Blob.slice gives cheap random access, so
 * each tensor is read on its own and the folder is never held in memory whole.
 */
import { LoadAbortedError, MissingFileError } from '../errors.js';
import type { ByteRange, FileSource, ReadOptions, StreamOptions } from './source.js';

const CHUNK = 4 << 20;

export class BrowserFilesSource implements FileSource {
  readonly name: string;
  readonly preferredAccess = 'ranges' as const;
  private readonly files = new Map<string, Blob>();

  /** Files are matched by base name, so a dropped folder (webkitRelativePath "x/config.json") works. */
  constructor(files: Iterable<File> | ArrayLike<File>, name = 'the selected files') {
    for (const f of Array.from(files as ArrayLike<File>)) this.files.set(baseName(f.name), f);
    this.name = name;
  }

  async list(): Promise<string[]> {
    return [...this.files.keys()];
  }

  async size(file: string): Promise<number | undefined> {
    return this.files.get(file)?.size;
  }

  async read(file: string, range?: ByteRange, options?: ReadOptions): Promise<Uint8Array> {
    const blob = this.get(file);
    if (options?.signal?.aborted) throw new LoadAbortedError(file);
    const part = range ? blob.slice(range.start, range.end) : blob;
    return new Uint8Array(await part.arrayBuffer());
  }

  async *stream(file: string, options?: StreamOptions): AsyncIterable<Uint8Array> {
    const blob = this.get(file);
    // Slices rather than blob.stream(): same bytes, and no reader left open if the consumer stops early.
    for (let at = 0; at < blob.size; at += CHUNK) {
      if (options?.signal?.aborted) throw new LoadAbortedError(file);
      const chunk = new Uint8Array(await blob.slice(at, Math.min(blob.size, at + CHUNK)).arrayBuffer());
      options?.onProgress?.(at + chunk.byteLength, blob.size);
      yield chunk;
    }
  }

  private get(file: string): Blob {
    const blob = this.files.get(file);
    if (!blob) throw new MissingFileError(file, this.name);
    return blob;
  }
}

function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? path : path.slice(i + 1);
}
