/** The benchmark's same-process reference: a plain 16×16-tiled matmul, written independently of the kernels under test. */
import type { GpuContext } from '../packages/wgpu-kernels/src/runtime/context.js';
import type { GpuTensor } from '../packages/wgpu-kernels/src/runtime/tensor.js';
import { ceilDiv, packParams } from '../packages/wgpu-kernels/src/wgsl/common.js';

/** The same-process reference: one output per thread, 16×16 tiles of A and B through workgroup memory. */
function refWgsl(transB: boolean): string {
  const bAt = transB ? 'B[bb + n * p.K + k]' : 'B[bb + k * p.N + n]';
  return /* wgsl */ `
struct Params { M: u32, N: u32, K: u32, batch: u32, aBatch: u32, bBatch: u32 }
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> sa: array<f32, 256>;
var<workgroup> sb: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = wg.y * 16u + l.y;
  let col = wg.x * 16u + l.x;
  let ab = wg.z * p.aBatch;
  let bb = wg.z * p.bBatch;
  var s = 0.0;
  for (var k0 = 0u; k0 < p.K; k0 += 16u) {
    let ka = k0 + l.x;
    sa[l.y * 16u + l.x] = select(0.0, A[ab + row * p.K + ka], row < p.M && ka < p.K);
    let k = k0 + l.y;
    let n = col;
    sb[l.y * 16u + l.x] = select(0.0, ${bAt}, n < p.N && k < p.K);
    workgroupBarrier();
    for (var i = 0u; i < 16u; i++) { s += sa[l.y * 16u + i] * sb[i * 16u + l.x]; }
    workgroupBarrier();
  }
  if (row < p.M && col < p.N) { C[wg.z * p.M * p.N + row * p.N + col] = s; }
}`;
}

export function refMatmul(
  ctx: GpuContext,
  a: GpuTensor,
  b: GpuTensor,
  out: GpuTensor,
  M: number,
  N: number,
  K: number,
  transB: boolean,
  batch = 1,
  bBatched = false,
): void {
  ctx.dispatch({
    pipeline: ctx.pipelines.get('refMatmul', refWgsl(transB)),
    bindings: [a, b, out],
    params: packParams([
      ['u32', M],
      ['u32', N],
      ['u32', K],
      ['u32', batch],
      ['u32', M * K],
      ['u32', bBatched ? N * K : 0],
    ]),
    workgroups: [ceilDiv(N, 16), ceilDiv(M, 16), batch],
    label: 'refMatmul',
  });
}
