/**
 * Tensors out of one or more safetensors files, one at a time: peak host memory is one tensor (plus one
 * chunk), never the model. With random access (disk, File, HTTP Range) each wanted tensor's own byte
 * range is read; otherwise each file is streamed once, in data order, skipping what is not wanted.
 */
import { LoadAbortedError, SafetensorsTruncatedError, UnsupportedDtypeError } from '../errors.js';
import { ChunkReader } from './chunk-reader.js';
import { decodeFloat, decodeInt, type FloatDtype, type IntDtype, isFloatDtype } from './dtype.js';
import { type LoadProgress, ProgressTracker } from './progress.js';
import { parseHeader, parseHeaderLength, readSafetensorsHeader, type SafetensorsHeader, type TensorInfo } from './safetensors.js';
import type { FileSource } from './source.js';

interface TensorBase {
  name: string;
  file: string;
  shape: number[];
}
/** Floats arrive as fp32 whatever their stored dtype; I32/I64 as int32. */
export type RawTensor = (TensorBase & { dtype: FloatDtype; data: Float32Array }) | (TensorBase & { dtype: IntDtype; data: Int32Array });

export interface StreamTensorsOptions {
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Which tensors to read. Default: every tensor with a float or I32/I64 dtype (others are skipped). */
  filter?: (tensor: TensorInfo, file: string) => boolean;
  /** 'auto' follows the source's preferredAccess. */
  access?: 'auto' | 'ranges' | 'sequential';
  /** Headers read earlier (e.g. by inspectModel), keyed by file, to avoid reading them twice. */
  headers?: ReadonlyMap<string, SafetensorsHeader>;
}

const decodable = (t: TensorInfo) => isFloatDtype(t.dtype) || t.dtype === 'I32' || t.dtype === 'I64';

export async function* streamTensors(source: FileSource, files: readonly string[], options: StreamTensorsOptions = {}): AsyncGenerator<RawTensor> {
  const access = options.access === undefined || options.access === 'auto' ? source.preferredAccess : options.access;
  const tracker = new ProgressTracker(options.onProgress);
  if (access === 'ranges') yield* rangeMode(source, files, options, tracker);
  else yield* sequentialMode(source, files, options, tracker);
}

async function* rangeMode(source: FileSource, files: readonly string[], options: StreamTensorsOptions, tracker: ProgressTracker): AsyncGenerator<RawTensor> {
  const want = options.filter ?? decodable;
  const signal = options.signal;
  // All headers first: the progress total is then exact and a broken shard fails before any weight is read.
  const headers: SafetensorsHeader[] = [];
  for (const file of files) {
    const h = options.headers?.get(file) ?? (await readSafetensorsHeader(source, file, signal ? { signal } : undefined));
    headers.push(h);
    tracker.expect(file, h.dataStart + h.tensors.filter((t) => want(t, file)).reduce((s, t) => s + t.end - t.begin, 0));
  }
  for (const h of headers) {
    tracker.add(h.file, h.dataStart);
    for (const t of h.tensors) {
      if (!want(t, h.file)) continue;
      if (signal?.aborted) throw new LoadAbortedError(h.file);
      const bytes = await source.read(h.file, { start: h.dataStart + t.begin, end: h.dataStart + t.end }, signal ? { signal } : undefined);
      if (bytes.byteLength < t.end - t.begin) throw new SafetensorsTruncatedError(h.file, h.dataStart + t.end, h.dataStart + t.begin + bytes.byteLength);
      tracker.add(h.file, bytes.byteLength);
      yield decode(h.file, t, bytes);
    }
  }
}

async function* sequentialMode(
  source: FileSource,
  files: readonly string[],
  options: StreamTensorsOptions,
  tracker: ProgressTracker,
): AsyncGenerator<RawTensor> {
  const want = options.filter ?? decodable;
  const signal = options.signal;
  for (const file of files) tracker.expect(file, options.headers?.get(file)?.fileSize);
  for (const file of files) {
    // The size comes with the first chunk's progress report (Content-Length, stat, Blob.size): no extra request.
    let streamTotal: number | undefined;
    const stream = source.stream(file, {
      ...(signal ? { signal } : {}),
      onProgress: (loaded, total) => {
        streamTotal ??= total;
        tracker.fileProgress(file, loaded, total);
      },
    });
    const reader = new ChunkReader(stream);
    try {
      const first8 = await reader.read(8);
      const known = options.headers?.get(file)?.fileSize ?? streamTotal;
      const n = parseHeaderLength(file, first8, known);
      const headerBytes = await reader.read(n);
      if (headerBytes.byteLength < n) throw new SafetensorsTruncatedError(file, 8 + n, 8 + headerBytes.byteLength);
      const h = parseHeader(file, headerBytes, known);
      for (const t of h.tensors) {
        const gap = h.dataStart + t.begin - reader.position;
        // Overlap was rejected by parseHeader, so gap >= 0 except for empty tensors sharing an offset.
        if (gap > 0 && (await reader.skip(gap)) < gap) throw new SafetensorsTruncatedError(file, h.dataStart + t.end, reader.position);
        const len = Math.max(0, h.dataStart + t.end - reader.position);
        if (!want(t, file)) {
          if ((await reader.skip(len)) < len) throw new SafetensorsTruncatedError(file, h.dataStart + t.end, reader.position);
          continue;
        }
        const bytes = await reader.read(len);
        if (bytes.byteLength < len) throw new SafetensorsTruncatedError(file, h.dataStart + t.end, reader.position);
        yield decode(file, t, bytes);
      }
      // Read whatever follows the last tensor so an HTTP download completes (and lands in the cache).
      await reader.drain();
    } finally {
      await reader.close();
    }
  }
}

function decode(file: string, t: TensorInfo, bytes: Uint8Array): RawTensor {
  const base = { name: t.name, file, shape: t.shape };
  if (isFloatDtype(t.dtype)) return { ...base, dtype: t.dtype, data: decodeFloat(t.name, t.dtype, bytes) };
  if (t.dtype === 'I32' || t.dtype === 'I64') return { ...base, dtype: t.dtype, data: decodeInt(t.name, t.dtype, bytes) };
  throw new UnsupportedDtypeError(t.name, t.dtype);
}
