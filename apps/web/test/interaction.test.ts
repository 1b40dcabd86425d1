import { describe, expect, it } from 'vitest';
import { moveHead } from '../src/hooks/grid-navigation.js';
import { type HoverLock, hoverLock, shown } from '../src/hooks/hover-lock.js';

describe('moveHead', () => {
  const dims = { nLayers: 3, nHeads: 4 };
  it('moves by head and by layer and stops at the edges', () => {
    expect(moveHead({ layer: 1, head: 1 }, 'ArrowRight', dims)).toEqual({ layer: 1, head: 2 });
    expect(moveHead({ layer: 1, head: 1 }, 'ArrowDown', dims)).toEqual({ layer: 2, head: 1 });
    expect(moveHead({ layer: 2, head: 3 }, 'ArrowDown', dims)).toEqual({ layer: 2, head: 3 });
    expect(moveHead({ layer: 0, head: 0 }, 'ArrowLeft', dims)).toEqual({ layer: 0, head: 0 });
    expect(moveHead({ layer: 0, head: 0 }, 'ArrowUp', dims)).toEqual({ layer: 0, head: 0 });
  });
  it('jumps to the edges with Home/End/PageUp/PageDown and ignores other keys', () => {
    expect(moveHead({ layer: 1, head: 2 }, 'Home', dims)).toEqual({ layer: 1, head: 0 });
    expect(moveHead({ layer: 1, head: 2 }, 'End', dims)).toEqual({ layer: 1, head: 3 });
    expect(moveHead({ layer: 1, head: 2 }, 'PageUp', dims)).toEqual({ layer: 0, head: 2 });
    expect(moveHead({ layer: 1, head: 2 }, 'PageDown', dims)).toEqual({ layer: 2, head: 2 });
    expect(moveHead({ layer: 1, head: 2 }, 'a', dims)).toBeNull();
  });
});

describe('hoverLock', () => {
  it('previews on hover, returns to the locked item on leave, locks on click', () => {
    let s: HoverLock<string> = { locked: 'a', hover: null };
    s = hoverLock(s, { type: 'enter', item: 'b' });
    expect(shown(s)).toBe('b');
    s = hoverLock(s, { type: 'leave' });
    expect(shown(s)).toBe('a');
    s = hoverLock(s, { type: 'enter', item: 'c' });
    s = hoverLock(s, { type: 'lock', item: 'c' });
    expect(s).toEqual({ locked: 'c', hover: null });
    s = hoverLock(s, { type: 'leave' });
    expect(shown(s)).toBe('c');
  });
  it('returns the same state object when nothing changes', () => {
    const s: HoverLock<number> = { locked: 1, hover: null };
    expect(hoverLock(s, { type: 'leave' })).toBe(s);
  });
});
