/**
 * The pool hands a size class's oldest free buffer out first, so a run that releases its temporaries in
 * another order than it took them still gets the same buffers next time (cached bind groups hit), and it
 * keeps as many bytes as the largest run held at once.
 */
import { describe, expect, it } from 'vitest';
import { BufferPool, BufferUsage } from '../../src/index.js';
import { useGpu } from '../helpers.js';

const USAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST;

describe('BufferPool', () => {
  const gpu = useGpu();

  it('gives out the oldest free buffer of a class, whatever the release order', () => {
    const pool = new BufferPool(gpu().device);
    const [a, b, c] = [pool.acquire(1000, USAGE, 'a'), pool.acquire(1000, USAGE, 'b'), pool.acquire(1000, USAGE, 'c')];
    for (const order of [
      [b, c, a],
      [c, a, b],
      [a, b, c],
    ]) {
      for (const x of order) pool.release(x!);
      expect([pool.acquire(1000, USAGE, 'x'), pool.acquire(1000, USAGE, 'y'), pool.acquire(1000, USAGE, 'z')]).toEqual([a, b, c]);
    }
    pool.destroyAll();
  });

  it('keeps what the largest run held (above its floor) and forgets it on trim', () => {
    const size = BufferPool.sizeClass(4096);
    const pool = new BufferPool(gpu().device, size);
    const run = () => [0, 1, 2].map(() => pool.acquire(4096, USAGE, 'run'));
    const first = run();
    for (const x of first) pool.release(x);
    expect(pool.stats).toMatchObject({ pooledBuffers: 3, pooledBytes: 3 * size });
    // The second run gets the same three buffers back: nothing was destroyed and created again.
    const second = run();
    expect(new Set(second)).toEqual(new Set(first));
    for (const x of second) pool.release(x);
    pool.trim();
    expect(pool.stats).toMatchObject({ pooledBuffers: 0, pooledBytes: 0 });
    // After a trim the floor applies again until a run needs more: one buffer's worth is kept.
    const one = pool.acquire(4096, USAGE, 'one');
    const two = pool.acquire(4096, USAGE, 'two');
    pool.trim();
    pool.release(one);
    pool.release(two);
    expect(pool.stats.pooledBuffers).toBe(2);
    pool.destroyAll();
  });

  it('when full, destroys the buffers free for longest, not the one coming back', () => {
    const size = BufferPool.sizeClass(4096);
    const pool = new BufferPool(gpu().device, 2 * size);
    // An earlier run's two buffers fill the pool's floor.
    const old = [pool.acquire(4096, USAGE, 'old'), pool.acquire(4096, USAGE, 'old')];
    pool.trim();
    for (const b of old) pool.release(b);
    expect(pool.stats.pooledBuffers).toBe(2);
    // This run uses another size; what it releases is kept and the oldest free buffer goes.
    const other = pool.acquire(2000, USAGE, 'other');
    pool.release(other);
    expect(pool.stats.pooledBuffers).toBe(2);
    expect(pool.acquire(2000, USAGE, 'again')).toBe(other);
    expect(pool.acquire(4096, USAGE, 'kept')).toBe(old[1]);
    pool.destroyAll();
  });
});
