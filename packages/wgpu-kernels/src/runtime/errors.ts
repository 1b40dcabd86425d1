/**
 * Typed GPU errors. Each carries `fix`: one sentence a user can act on (WebLLM-style named errors).
 * `message` is the full text shown to users: what happened, then what to do.
 */
export class HeadscopeGpuError extends Error {
  readonly fix: string;
  constructor(what: string, fix: string, options?: { cause?: unknown }) {
    super(`${what} ${fix}`, options);
    this.name = new.target.name;
    this.fix = fix;
  }
}

/** No `navigator.gpu`, or no adapter could be obtained. */
export class WebGpuUnavailableError extends HeadscopeGpuError {
  constructor(detail: string) {
    super(
      `WebGPU is not available: ${detail}.`,
      'Use a browser with WebGPU enabled (Chrome/Edge 113+, or start Chromium with --enable-unsafe-webgpu), or pick a model under ~30M parameters to run on the CPU path.',
    );
  }
}

/** The adapter cannot grant a limit the caller needs (e.g. a model's largest weight matrix). */
export class AdapterLimitError extends HeadscopeGpuError {
  readonly limit: string;
  readonly needed: number;
  readonly allowed: number;
  constructor(limit: string, needed: number, allowed: number, purpose: string) {
    super(
      `${purpose} needs ${limit} = ${formatBytesOrCount(limit, needed)}, but this GPU adapter allows at most ${formatBytesOrCount(limit, allowed)}.`,
      'Choose a smaller model or a shorter prompt, capture fewer heads, or use a GPU/browser with larger WebGPU limits.',
    );
    this.limit = limit;
    this.needed = needed;
    this.allowed = allowed;
  }
}

/** A single allocation beyond what the device allows for one buffer. */
export class BufferTooLargeError extends HeadscopeGpuError {
  readonly bytes: number;
  readonly maxBytes: number;
  constructor(label: string, bytes: number, maxBytes: number) {
    super(
      `The GPU buffer "${label}" would need ${formatBytes(bytes)}, but this device allows ${formatBytes(maxBytes)} per buffer.`,
      'Use a shorter prompt, capture fewer heads or layers, or a smaller model.',
    );
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** The driver refused an allocation (out of GPU memory). */
export class GpuOutOfMemoryError extends HeadscopeGpuError {
  readonly bytes: number;
  constructor(label: string, bytes: number, detail?: string) {
    super(
      `The GPU ran out of memory allocating "${label}" (${formatBytes(bytes)})${detail ? `: ${detail}` : ''}.`,
      'Close other GPU-heavy tabs or programs, capture fewer heads, use a shorter prompt or a smaller model.',
    );
    this.bytes = bytes;
  }
}

/** The device was lost (driver reset, tab backgrounded too long, destroy()). */
export class DeviceLostError extends HeadscopeGpuError {
  readonly reason: string;
  constructor(reason: string, detail: string) {
    super(
      `The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}).`,
      'Your session is kept; reload the model to continue (the app does this when you press "Reconnect GPU").',
    );
    this.reason = reason;
  }
}

/** WGSL that failed to compile or a pipeline that failed validation: a bug in Headscope, not the user's input. */
export class ShaderCompileError extends HeadscopeGpuError {
  constructor(kernel: string, detail: string) {
    super(
      `The GPU kernel "${kernel}" failed to compile on this adapter: ${detail}.`,
      'Please report this with your browser and GPU; meanwhile try another browser or the CPU path.',
    );
  }
}

/** Arguments that do not fit a kernel (shape mismatch etc.): a programming error with a precise message. */
export class KernelArgumentError extends HeadscopeGpuError {
  constructor(kernel: string, detail: string) {
    super(`Invalid arguments for GPU kernel "${kernel}": ${detail}.`, 'This is a bug in the caller; check the shapes passed in.');
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

function formatBytesOrCount(limit: string, n: number): string {
  return /Size$/.test(limit) ? formatBytes(n) : String(n);
}
