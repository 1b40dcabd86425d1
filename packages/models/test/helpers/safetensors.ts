/** Builds safetensors bytes by hand (the format is simple enough to write directly, including broken variants). */

export interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export function f32(name: string, shape: number[], values: ArrayLike<number>): Entry {
  return { name, dtype: 'F32', shape, bytes: new Uint8Array(Float32Array.from(values).buffer) };
}

export function u16(name: string, dtype: 'F16' | 'BF16', shape: number[], bits: ArrayLike<number>): Entry {
  return { name, dtype, shape, bytes: new Uint8Array(Uint16Array.from(bits).buffer) };
}

export function i64(name: string, shape: number[], values: bigint[]): Entry {
  return { name, dtype: 'I64', shape, bytes: new Uint8Array(BigInt64Array.from(values).buffer) };
}

export interface BuildOptions {
  metadata?: Record<string, string>;
  /** Edit the header object before it is serialised (to break it on purpose). */
  editHeader?: (h: Record<string, unknown>) => void;
  /** Replace the header text entirely. */
  headerText?: string;
  /** Override the 8-byte length field. */
  headerLength?: bigint;
  /** Pad the header with spaces to align the data (what writers do). */
  align?: number;
}

export function buildSafetensors(entries: Entry[], o: BuildOptions = {}): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (o.metadata) header['__metadata__'] = o.metadata;
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.byteLength] };
    offset += e.bytes.byteLength;
  }
  o.editHeader?.(header);
  let text = o.headerText ?? JSON.stringify(header);
  if (o.align) while ((8 + new TextEncoder().encode(text).length) % o.align !== 0) text += ' ';
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, o.headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.byteLength;
  }
  return out;
}

/** Deterministic pseudo-random floats (a small LCG), so tests need no fixtures on disk. */
export function randomFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Bitwise equality of two float arrays (vitest's deep equality is slow on large typed arrays). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
