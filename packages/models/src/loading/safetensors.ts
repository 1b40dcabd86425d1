/**
 * safetensors header parsing and validation. The format: an 8-byte little-endian u64 header length N, N
 * bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`, then
 * the data; offsets are relative to the data start (byte 8 + N). Everything is checked before a single
 * tensor byte is read, so a bad file fails with a typed error instead of a garbage tensor.
 */
import { SafetensorsHeaderJsonError, SafetensorsHeaderLengthError, SafetensorsOffsetsError, SafetensorsTruncatedError } from '../errors.js';
import { DTYPE_BYTES } from './dtype.js';
import type { FileSource, ReadOptions } from './source.js';

/** The reference implementation's cap; a larger "length" is garbage, not a header worth allocating. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Offsets relative to the data start, end exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  /** Byte offset of the data in the file (8 + header length). */
  dataStart: number;
  /** Tensors in data order (ascending begin). */
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** File size where the source knew it. */
  fileSize: number | undefined;
}

/** Reads the u64 header length; checks it against the file size when known. */
export function parseHeaderLength(file: string, first8: Uint8Array, fileSize: number | undefined): number {
  if (first8.byteLength < 8) throw new SafetensorsTruncatedError(file, 8, first8.byteLength);
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > MAX_HEADER_BYTES) throw new SafetensorsHeaderLengthError(file, n, undefined);
  if (fileSize !== undefined && 8 + n > fileSize) throw new SafetensorsHeaderLengthError(file, n, fileSize);
  return n;
}

/** Parses and validates the JSON header (`headerBytes` = exactly the N header bytes). */
export function parseHeader(file: string, headerBytes: Uint8Array, fileSize: number | undefined): SafetensorsHeader {
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsHeaderJsonError(file, 'it is not UTF-8 text');
  }
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsHeaderJsonError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(json)) throw new SafetensorsHeaderJsonError(file, 'the top level is not a JSON object');
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isRecord(entry)) throw new SafetensorsHeaderJsonError(file, '"__metadata__" is not an object');
      for (const [k, v] of Object.entries(entry)) if (typeof v === 'string') metadata[k] = v;
      continue;
    }
    tensors.push(parseEntry(file, name, entry));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + headerBytes.byteLength;
  checkLayout(file, tensors, fileSize === undefined ? undefined : fileSize - dataStart, dataStart);
  return { file, dataStart, tensors, metadata, fileSize };
}

function parseEntry(file: string, name: string, entry: unknown): TensorInfo {
  const bad = (what: string) => new SafetensorsHeaderJsonError(file, `tensor "${name}" ${what}`);
  if (!isRecord(entry)) throw bad('is not an object');
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') throw bad('has no dtype string');
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad('has no shape of non-negative integers');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) throw bad('has no data_offsets [begin, end]');
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new SafetensorsOffsetsError(file, name, 'out-of-range', `begin ${begin} is after end ${end}`);
  const elem = DTYPE_BYTES[dtype];
  // An unknown dtype (newer format revisions) cannot be size-checked; it only fails if someone decodes it.
  if (elem !== undefined) {
    const numel = shape.reduce((a: number, d: number) => a * d, 1);
    if (numel * elem !== end - begin) {
      throw new SafetensorsOffsetsError(file, name, 'size-mismatch', `${dtype}[${shape.join(', ')}] needs ${numel * elem} bytes, offsets span ${end - begin}`);
    }
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * Overlaps, and tensors past the end of the file. When the tensors are packed back to back from offset 0
 * (as every writer does) and only the file is short, the file was cut: that is truncation, not bad offsets.
 */
function checkLayout(file: string, tensors: readonly TensorInfo[], dataBytes: number | undefined, dataStart: number): void {
  let prev: TensorInfo | undefined;
  let packed = true;
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin === t.end) continue; // empty tensors occupy no bytes and may share an offset
    if (prev && t.begin < prev.end) {
      throw new SafetensorsOffsetsError(file, t.name, 'overlap', `[${t.begin}, ${t.end}) overlaps "${prev.name}" [${prev.begin}, ${prev.end})`);
    }
    if (t.begin !== cursor) packed = false;
    cursor = t.end;
    prev = t;
  }
  if (dataBytes === undefined || cursor <= dataBytes) return;
  if (packed) throw new SafetensorsTruncatedError(file, dataStart + cursor, dataStart + dataBytes);
  const beyond = tensors.find((t) => t.end > dataBytes)!;
  throw new SafetensorsOffsetsError(file, beyond.name, 'out-of-range', `it ends at data byte ${beyond.end}, but the file holds ${dataBytes} data bytes`);
}

/** Reads a file's header through ranges: the first 8 bytes, then exactly the header. */
export async function readSafetensorsHeader(source: FileSource, file: string, options?: ReadOptions): Promise<SafetensorsHeader> {
  const first8 = await source.read(file, { start: 0, end: 8 }, options);
  const fileSize = await source.size(file, options);
  const n = parseHeaderLength(file, first8, fileSize);
  const header = await source.read(file, { start: 8, end: 8 + n }, options);
  if (header.byteLength < n) throw new SafetensorsTruncatedError(file, 8 + n, 8 + header.byteLength);
  return parseHeader(file, header, fileSize);
}

/** Total bytes a header's data occupies. */
export function dataLength(h: SafetensorsHeader): number {
  return h.tensors.reduce((m, t) => Math.max(m, t.end), 0);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
