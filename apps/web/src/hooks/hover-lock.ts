/**
 * Hover to preview, click to lock: the item shown is the hovered one while the pointer is over an item,
 * otherwise the locked one. Keyboard moves set the locked item directly and end any preview.
 */
export interface HoverLock<T> {
  locked: T;
  hover: T | null;
}

export type HoverLockAction<T> = { type: 'enter'; item: T } | { type: 'leave' } | { type: 'lock'; item: T };

export function hoverLock<T>(state: HoverLock<T>, action: HoverLockAction<T>): HoverLock<T> {
  switch (action.type) {
    case 'enter':
      return { ...state, hover: action.item };
    case 'leave':
      return state.hover === null ? state : { ...state, hover: null };
    case 'lock':
      return { locked: action.item, hover: null };
  }
}

export function shown<T>(state: HoverLock<T>): T {
  return state.hover ?? state.locked;
}
