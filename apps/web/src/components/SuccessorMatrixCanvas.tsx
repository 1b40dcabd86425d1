/**
 * One head's task × task OV-logit matrix on canvas (lib/successor-draw.ts). Click a row, or focus the canvas
 * and use ↑/↓ (Home/End), to pick the token whose predicted successors the panel lists.
 */
import { type KeyboardEvent, type MouseEvent, type RefObject, useEffect } from 'react';
import { drawSuccessorMatrix, matrixSize, type SuccessorMatrix } from '../lib/successor-draw.js';

interface Props {
  matrix: SuccessorMatrix;
  label: string;
  onPick(row: number): void;
  /** The canvas, for the PNG export. */
  canvasRef: RefObject<HTMLCanvasElement | null>;
}

export function SuccessorMatrixCanvas({ matrix, label, onPick, canvasRef: ref }: Props) {
  const { cell, top, width, height } = matrixSize(matrix.n);
  useEffect(() => {
    const g = ref.current?.getContext('2d');
    if (g) drawSuccessorMatrix(g, matrix);
  }, [matrix, ref]);
  const onClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const row = Math.floor(((e.clientY - r.top) * (height / r.height) - top) / cell);
    if (row >= 0 && row < matrix.n) onPick(row);
  };
  const onKey = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const next = { ArrowDown: matrix.picked + 1, ArrowUp: matrix.picked - 1, Home: 0, End: matrix.n - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    onPick(Math.min(matrix.n - 1, Math.max(0, next)));
  };
  return <canvas ref={ref} width={width} height={height} role="img" aria-label={label} tabIndex={0} onClick={onClick} onKeyDown={onKey} />;
}
