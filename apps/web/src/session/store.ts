/**
 * Saved sessions: a small interface with an in-memory implementation (tests) and an IndexedDB one (the app,
 * idb.ts). Records are validated (and migrated) on the way out, so a damaged or newer record is listed with
 * its error instead of breaking the list, and is never deleted behind the user's back.
 */
import type { SessionDecodeError } from './errors.js';
import { parseSession } from './migrate.js';
import { type Session, sessionModelLabel } from './schema.js';

export interface SessionSummary {
  id: string;
  name: string;
  model: string;
  created: number;
  updated: number;
}

export type SessionListEntry = ({ ok: true } & SessionSummary) | { ok: false; id: string; error: SessionDecodeError };

export type StoredSession = { ok: true; id: string; session: Session } | { ok: false; id: string; error: SessionDecodeError };

export interface SessionStore {
  /** Every saved session, the most recently updated first (damaged ones last). */
  list(): Promise<SessionListEntry[]>;
  /** null when there is no such session. */
  get(id: string): Promise<StoredSession | null>;
  /** Saves (creates or replaces) `id`: `updated` becomes now, `created` stays that of the first save. Idempotent. */
  put(id: string, session: Session): Promise<Session>;
  /** null when there is no such (valid) session. */
  rename(id: string, name: string): Promise<Session | null>;
  /** A copy under a new id, named "… (copy)"; null when there is no such (valid) session. */
  duplicate(id: string): Promise<{ id: string; session: Session } | null>;
  remove(id: string): Promise<void>;
}

/** The raw key-value storage under a store: records are plain JSON-like values. */
export interface SessionBackend {
  all(): Promise<{ id: string; value: unknown }[]>;
  read(id: string): Promise<unknown>;
  write(id: string, value: unknown): Promise<void>;
  delete(id: string): Promise<void>;
}

export function newSessionId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `s-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function check(id: string, value: unknown): StoredSession {
  const r = parseSession(value);
  return r.ok ? { ok: true, id, session: r.session } : { ok: false, id, error: r.error };
}

/** The store's logic over any backend. */
export class BackedSessionStore implements SessionStore {
  constructor(
    private readonly backend: SessionBackend,
    private readonly now: () => number = Date.now,
    private readonly makeId: () => string = newSessionId,
  ) {}

  async list(): Promise<SessionListEntry[]> {
    const rows = (await this.backend.all()).map(({ id, value }) => check(id, value));
    const good: (SessionSummary & { ok: true })[] = [];
    const bad: SessionListEntry[] = [];
    for (const r of rows) {
      if (r.ok)
        good.push({
          ok: true,
          id: r.id,
          name: r.session.name,
          model: sessionModelLabel(r.session.model),
          created: r.session.created,
          updated: r.session.updated,
        });
      else bad.push({ ok: false, id: r.id, error: r.error });
    }
    good.sort((a, b) => b.updated - a.updated || a.id.localeCompare(b.id));
    return [...good, ...bad];
  }

  async get(id: string): Promise<StoredSession | null> {
    const value = await this.backend.read(id);
    return value === undefined ? null : check(id, value);
  }

  async put(id: string, session: Session): Promise<Session> {
    const before = await this.get(id);
    const created = before?.ok ? Math.min(before.session.created, session.created) : session.created;
    const updated = Math.max(this.now(), created);
    const next: Session = { ...session, created, updated };
    // Validate before writing: the store only ever holds sessions that open again.
    const valid = parseSession(JSON.parse(JSON.stringify(next)) as unknown);
    if (!valid.ok) throw new SessionStoreError(valid.error.message);
    await this.backend.write(id, valid.session);
    return valid.session;
  }

  async rename(id: string, name: string): Promise<Session | null> {
    const s = await this.get(id);
    return s?.ok ? this.put(id, { ...s.session, name }) : null;
  }

  async duplicate(id: string): Promise<{ id: string; session: Session } | null> {
    const s = await this.get(id);
    if (!s?.ok) return null;
    const copyId = this.makeId();
    const name = `${s.session.name} (copy)`.slice(0, 200);
    const session = await this.put(copyId, { ...s.session, name, created: this.now() });
    return { id: copyId, session };
  }

  remove(id: string): Promise<void> {
    return this.backend.delete(id);
  }
}

/** A session that cannot be saved (it fails the schema): a bug in the caller, reported with the schema's message. */
export class SessionStoreError extends Error {
  override name = 'SessionStoreError';
}

/** A backend in memory; values are copied in and out as JSON, like IndexedDB's structured clone would. */
export class MemoryBackend implements SessionBackend {
  readonly rows = new Map<string, string>();
  async all() {
    return [...this.rows].map(([id, v]) => ({ id, value: JSON.parse(v) as unknown }));
  }
  async read(id: string) {
    const v = this.rows.get(id);
    return v === undefined ? undefined : (JSON.parse(v) as unknown);
  }
  async write(id: string, value: unknown) {
    this.rows.set(id, JSON.stringify(value));
  }
  async delete(id: string) {
    this.rows.delete(id);
  }
}

export class MemorySessionStore extends BackedSessionStore {
  constructor(
    readonly memory: MemoryBackend = new MemoryBackend(),
    now?: () => number,
    makeId?: () => string,
  ) {
    super(memory, now, makeId);
  }
}
