/** 'f16' and 'bf16' are weights packed two per u32 word (runtime/half.ts); kernels that take them say so. */
export type DType = 'f32' | 'u32' | 'i32' | 'f16' | 'bf16';

export type TypedArrayFor<D extends DType> = D extends 'f32' | 'f16' | 'bf16' ? Float32Array : D extends 'u32' ? Uint32Array : Int32Array;

/** A dense row-major tensor living in one GPU buffer (which may be larger than the tensor: pooled). */
export class GpuTensor {
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType = 'f32',
    readonly label = 'tensor',
  ) {}

  get size(): number {
    return shapeSize(this.shape);
  }

  /** Bytes the tensor occupies (at least 4: zero-size bindings are invalid). */
  get byteLength(): number {
    return tensorBytes(this.shape, this.dtype);
  }

  /** The same buffer seen with another shape of equal size (no copy). */
  reshape(shape: readonly number[]): GpuTensor {
    if (shapeSize(shape) !== this.size) throw new Error(`reshape ${this.shape} -> ${shape}: sizes differ`);
    return new GpuTensor(this.buffer, shape, this.dtype, this.label);
  }
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes a tensor of this shape and dtype occupies: 4 per element, or one u32 word per two 16-bit halves (at least 4). */
export function tensorBytes(shape: readonly number[], dtype: DType): number {
  const n = shapeSize(shape);
  return Math.max(4, dtype === 'f16' || dtype === 'bf16' ? Math.ceil(n / 2) * 4 : n * 4);
}
