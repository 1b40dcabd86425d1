/**
 * Writes the safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. Used by the CLI's `run --out`
 * and the app's "export every captured map".
 */
import { packHalves } from '@headscope/wgpu-kernels';

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array | Int32Array | Uint32Array;
  /** Store float data as F16 or BF16 (rounded to nearest even) instead of F32. */
  dtype?: 'F16' | 'BF16';
}

const DTYPE = { Float32Array: 'F32', Int32Array: 'I32', Uint32Array: 'U32' } as const;

export function encodeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const bytes = tensors.map(tensorBytes);
  tensors.forEach((t, i) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new RangeError(`tensor ${t.name}: shape [${t.shape}] has ${n} values, data has ${t.data.length}`);
    if (t.name in header) throw new RangeError(`tensor ${t.name} appears twice`);
    const b = bytes[i]!;
    header[t.name] = {
      dtype: t.dtype ?? DTYPE[t.data.constructor.name as keyof typeof DTYPE],
      shape: [...t.shape],
      data_offsets: [offset, offset + b.byteLength],
    };
    offset += b.byteLength;
  });
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned (readers may map it directly).
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const b of bytes) {
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}

/** A tensor's little-endian bytes: as is, or its floats packed to 16 bits (two bytes each, low half first). */
function tensorBytes(t: TensorToWrite): Uint8Array {
  if (!t.dtype) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (!(t.data instanceof Float32Array)) throw new RangeError(`tensor ${t.name}: ${t.dtype} needs float data`);
  const words = packHalves(t.data, t.dtype === 'F16' ? 'f16' : 'bf16');
  return new Uint8Array(words.buffer, 0, t.data.length * 2);
}
