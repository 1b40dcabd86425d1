/** Byte progress over a load that spans several files, with a transfer rate over a sliding window. */

export interface LoadProgress {
  /** The file bytes are arriving for now. */
  file: string;
  /** Bytes delivered so far, all files together. */
  loaded: number;
  /** All bytes this load will read, where known (HTTP without Content-Length may not say). */
  total: number | undefined;
  fileLoaded: number;
  fileTotal: number | undefined;
  /** Over the last few seconds; 0 until two samples exist. */
  bytesPerSecond: number;
}

export type ProgressListener = (p: LoadProgress) => void;

const WINDOW_MS = 3000;

export class ProgressTracker {
  private readonly loadedByFile = new Map<string, number>();
  private readonly totals = new Map<string, number | undefined>();
  private loaded = 0;
  private readonly samples: { t: number; loaded: number }[] = [];

  constructor(
    private readonly listener: ProgressListener | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Declares a file's byte count up front so `total` is right from the first event. */
  expect(file: string, bytes: number | undefined): void {
    this.totals.set(file, bytes);
  }

  /** The source reported `fileLoaded` bytes of `file` so far (cumulative). */
  fileProgress(file: string, fileLoaded: number, fileTotal?: number): void {
    if (fileTotal !== undefined && this.totals.get(file) === undefined) this.totals.set(file, fileTotal);
    const before = this.loadedByFile.get(file) ?? 0;
    // Cumulative counts only grow; a resumed download reports from the resume offset upward.
    if (fileLoaded <= before) return;
    this.loadedByFile.set(file, fileLoaded);
    this.loaded += fileLoaded - before;
    this.emit(file);
  }

  /** `bytes` more of `file` were read (range reads). */
  add(file: string, bytes: number): void {
    this.fileProgress(file, (this.loadedByFile.get(file) ?? 0) + bytes);
  }

  get bytesLoaded(): number {
    return this.loaded;
  }

  private emit(file: string): void {
    if (!this.listener) return;
    const t = this.now();
    this.samples.push({ t, loaded: this.loaded });
    while (this.samples.length > 2 && t - this.samples[0]!.t > WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    let total: number | undefined = 0;
    for (const v of this.totals.values()) total = v === undefined || total === undefined ? undefined : total + v;
    this.listener({
      file,
      loaded: this.loaded,
      total: this.totals.size === 0 ? undefined : total,
      fileLoaded: this.loadedByFile.get(file) ?? 0,
      fileTotal: this.totals.get(file),
      bytesPerSecond: dt > 0 ? (this.loaded - first.loaded) / dt : 0,
    });
  }
}
