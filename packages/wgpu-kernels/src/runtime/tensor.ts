export type DType = 'f32' | 'u32' | 'i32';

export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'u32' ? Uint32Array : Int32Array;

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
    return Math.max(4, this.size * 4);
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
