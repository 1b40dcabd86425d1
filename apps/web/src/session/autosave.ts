/**
 * Debounced autosave of the current session: the UI calls `schedule` on every change; the store sees one `put`
 * after `delayMs` of quiet, none when nothing but `updated` changed, and never two at once. `flush` saves a
 * pending change now (call it on `pagehide` / `visibilitychange`).
 */
import { sameContent } from './bridge.js';
import type { Session } from './schema.js';
import type { SessionStore } from './store.js';

export interface AutosaveOptions {
  delayMs?: number;
  onSaved?(session: Session): void;
  /** A failed save (quota, private mode…); the change stays pending and the next schedule or flush retries. */
  onError?(error: unknown): void;
}

export class Autosaver {
  private pending: Session | null = null;
  private saved: Session | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> = Promise.resolve();
  private readonly delayMs: number;

  constructor(
    private readonly store: SessionStore,
    readonly id: string,
    private readonly options: AutosaveOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 1_000;
  }

  /** The last session this saver wrote (or was told is saved). */
  get lastSaved(): Session | null {
    return this.saved;
  }

  /** Marks a session as already in the store (after opening it), so an unchanged state is not written back. */
  markSaved(session: Session): void {
    this.saved = session;
  }

  schedule(session: Session): void {
    if (this.saved && sameContent(session, this.saved)) {
      this.pending = null;
      this.clear();
      return;
    }
    this.pending = session;
    this.clear();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.delayMs);
  }

  /** Saves the pending change now; resolves when every save started so far has finished. */
  flush(): Promise<void> {
    this.clear();
    this.running = this.running.then(async () => {
      const next = this.pending;
      if (!next || (this.saved && sameContent(next, this.saved))) return;
      this.pending = null;
      try {
        this.saved = await this.store.put(this.id, next);
        this.options.onSaved?.(this.saved);
      } catch (e) {
        // Keep the change unless a newer one arrived meanwhile.
        this.pending ??= next;
        this.options.onError?.(e);
      }
    });
    return this.running;
  }

  /** Stops the timer (the pending change is dropped unless flushed first). */
  dispose(): void {
    this.clear();
    this.pending = null;
  }

  private clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
