import { ModelLoadError } from '../errors.js';

/** Models the CPU reference path accepts (it computes in float64 on one thread: larger ones are too slow). */
export const CPU_MAX_PARAMETERS = 30_000_000;

/** A model too large for the CPU path, which runs only where WebGPU is unavailable. */
export class CpuModelTooLargeError extends ModelLoadError {
  constructor(
    readonly model: string,
    readonly parameters: number,
    readonly maxParameters: number,
  ) {
    super(
      `Without WebGPU, models run on the CPU, which handles up to ${millions(maxParameters)} parameters; ${model} has ${millions(parameters)}.`,
      'Use a browser with WebGPU enabled (Chrome/Edge 113+) to run it, or pick a smaller model.',
    );
  }
}

function millions(n: number): string {
  return `${(n / 1e6).toFixed(1)}M`;
}
