/**
 * The IndexedDB backend of the session store (no library: a small promise wrapper). One object store,
 * `sessions`, keyed by session id; values are the session objects (structured clone).
 */
import { BackedSessionStore, type SessionBackend } from './store.js';

export const DB_NAME = 'headscope-sessions';
export const DB_VERSION = 1;
const STORE = 'sessions';

function promised<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export function openSessionDb(factory: IDBFactory = indexedDB, name = DB_NAME): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = factory.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('could not open IndexedDB'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another Headscope tab with an older version; close it and reload.'));
  });
}

export class IndexedDbBackend implements SessionBackend {
  private db: Promise<IDBDatabase> | null = null;
  constructor(
    private readonly factory: IDBFactory = indexedDB,
    private readonly name = DB_NAME,
  ) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= openSessionDb(this.factory, this.name).catch((e: unknown) => {
      this.db = null;
      throw e;
    });
    return this.db;
  }

  async all(): Promise<{ id: string; value: unknown }[]> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readonly');
    const finished = done(tx);
    const store = tx.objectStore(STORE);
    const [keys, values] = await Promise.all([promised(store.getAllKeys()), promised(store.getAll()), finished]);
    return keys.map((k, i) => ({ id: String(k), value: values[i] as unknown }));
  }

  async read(id: string): Promise<unknown> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readonly');
    const [value] = await Promise.all([promised<unknown>(tx.objectStore(STORE).get(id)), done(tx)]);
    return value;
  }

  async write(id: string, value: unknown): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    const finished = done(tx);
    tx.objectStore(STORE).put(value, id);
    await finished;
  }

  async delete(id: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    const finished = done(tx);
    tx.objectStore(STORE).delete(id);
    await finished;
  }
}

/** The app's session store, in this origin's IndexedDB. */
export class IndexedDbSessionStore extends BackedSessionStore {
  constructor(factory: IDBFactory = indexedDB, name = DB_NAME) {
    super(new IndexedDbBackend(factory, name));
  }
}
