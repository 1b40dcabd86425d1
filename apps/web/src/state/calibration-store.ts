/** The calibration panel's settings (saved with the session): ACT and ZeroTuning, each on or off, with its heads as typed. */
import { create } from 'zustand';
import type { CalibrationSettings } from '../engine/protocol.js';

export const DEFAULT_CALIBRATION: CalibrationSettings = {
  act: { on: false, heads: '', tau: 0.1, tauMode: 'absolute', beta: 0.4 },
  zeroTuning: { on: false, heads: '', gamma: 2 },
};

interface CalibrationStore extends CalibrationSettings {
  setAct(p: Partial<CalibrationSettings['act']>): void;
  setZeroTuning(p: Partial<CalibrationSettings['zeroTuning']>): void;
  /** Appends `layer.head` to a method's head list (no duplicates; `all` stays all). */
  addHead(method: 'act' | 'zeroTuning', layer: number, head: number): void;
  replace(s: CalibrationSettings): void;
}

export function withHead(list: string, layer: number, head: number): string {
  const items = list
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const h = `${layer}.${head}`;
  if (items.includes('all') || items.includes(h)) return items.join(',');
  return [...items, h].join(',');
}

export const useCalibrationStore = create<CalibrationStore>()((set) => ({
  ...DEFAULT_CALIBRATION,
  setAct: (p) => set((s) => ({ act: { ...s.act, ...p } })),
  setZeroTuning: (p) => set((s) => ({ zeroTuning: { ...s.zeroTuning, ...p } })),
  addHead: (method, layer, head) => set((s) => ({ [method]: { ...s[method], heads: withHead(s[method].heads, layer, head), on: true } })),
  replace: (c) => set({ act: { ...c.act }, zeroTuning: { ...c.zeroTuning } }),
}));

export function calibrationSettings(): CalibrationSettings {
  const s = useCalibrationStore.getState();
  return { act: { ...s.act }, zeroTuning: { ...s.zeroTuning } };
}

export function isDefaultCalibration(c: CalibrationSettings): boolean {
  return JSON.stringify(c) === JSON.stringify(DEFAULT_CALIBRATION);
}
