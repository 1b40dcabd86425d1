import { describe, expect, it } from 'vitest';
import { softcap } from '../../src/kernels/softcap.js';
import { softcapRef } from '../../src/kernels/softcap.ref.js';
import { expectClose, randn, useGpu } from '../helpers.js';

describe('softcap', () => {
  const gpu = useGpu();

  it('cap·tanh(x/cap) over small, large and huge values (in place too)', async () => {
    const ctx = gpu();
    const x = new Float32Array([...randn(1000, 3).map((v) => v * 40), 0, -0, 1e-30, 1e-6, -1e-6, 1e30, -1e30, 3.4e38, -3.4e38]);
    for (const cap of [30, 6, 0.5]) {
      const y = await ctx.readF32(softcap(ctx, { x: ctx.upload(x), cap }));
      // Absolute error of tanh via exp is ~1e-7 near 0; relative to the cap that is the f32 floor.
      expectClose(y, softcapRef(x, cap), cap * 3e-7);
      for (const v of y) expect(Math.abs(v)).toBeLessThanOrEqual(cap);
    }
    const t = ctx.upload(x);
    softcap(ctx, { x: t, cap: 6, out: t });
    expectClose(await ctx.readF32(t), softcapRef(x, 6), 6 * 3e-7);
  });

  it('refuses a cap that is not positive', () => {
    const ctx = gpu();
    expect(() => softcap(ctx, { x: ctx.upload(new Float32Array(4)), cap: 0 })).toThrow(/cap 0/);
  });
});
