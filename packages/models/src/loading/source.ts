/**
 * Where model files come from. One interface for a local folder (Node), dropped `File`s (browser), the
 * hub and the bundled model (HTTP); everything above it (safetensors parsing, the loader) sees only this.
 */

/** A byte range, `end` exclusive (as Blob.slice and safetensors data_offsets). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Bytes of this file delivered so far, and its size where known. */
  onProgress?: (loaded: number, total: number | undefined) => void;
}

export interface ReadOptions {
  signal?: AbortSignal;
}

export interface FileSource {
  /** Words for messages: "the folder /models/x", "huggingface.co/gpt2@main". */
  readonly name: string;
  /**
   * How tensor data is best read. 'ranges': random access is cheap (disk, File), read each tensor's own
   * range. 'sequential': one pass through each file (HTTP: one request per file, cacheable, resumable).
   */
  readonly preferredAccess: 'ranges' | 'sequential';
  /** The same kind of source one folder down (the hub's `onnx/` layout); absent where files are flat (dropped files match by base name). */
  subfolder?(name: string): FileSource;
  /** File names at the top level, where the source can enumerate them (HTTP cannot). */
  list?(): Promise<string[]>;
  /** Size in bytes; undefined when the file does not exist. */
  size(file: string, options?: ReadOptions): Promise<number | undefined>;
  /**
   * The bytes of `range` (the whole file without one). May return fewer bytes than asked when the file is
   * shorter: callers treat that as truncation. Throws MissingFileError when the file does not exist.
   */
  read(file: string, range?: ByteRange, options?: ReadOptions): Promise<Uint8Array>;
  /** The whole file, in order, in chunks the caller must not keep beyond one iteration. */
  stream(file: string, options?: StreamOptions): AsyncIterable<Uint8Array>;
}

/** Model files are flat names; anything else (a path, "..") could leave the model folder, so sources treat it as absent. */
export function isPlainFileName(file: string): boolean {
  return file !== '' && file !== '.' && file !== '..' && !file.includes('/') && !file.includes('\\');
}
