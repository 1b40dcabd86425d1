/**
 * Sessions as URL hashes (`#s=` + base64url of deflate-raw(JSON); the hash never reaches a server) and as
 * `.headscope.json` files. Decoding never throws: every failure is a typed `SessionDecodeError`. Hostile input
 * is bounded at each step: the text length before anything else, and the decompressed size while inflating
 * (the compressed bytes are fed in small slices with backpressure, so a zip bomb stops at the limit).
 */
import { type SessionResult, sessionErrors } from './errors.js';
import { parseSession } from './migrate.js';
import type { Session } from './schema.js';

/** The longest link text `decodeShare` looks at. */
export const MAX_LINK_CHARS = 64 * 1024;
/** The most a session may inflate to. */
export const MAX_DECOMPRESSED_BYTES = 1 << 20;
/** Links longer than this (whole URL) are offered as a file instead: some browsers, chat apps and servers cut longer ones. */
export const SHARE_URL_CHARS = 8_000;
/** The largest session file `decodeFile` reads (characters). */
export const MAX_FILE_CHARS = 2 << 20;
export const FILE_FORMAT = 'headscope-session';
export const FILE_EXTENSION = '.headscope.json';
/** Compressed bytes handed to the inflater at a time (deflate expands at most ~1032×). */
const SLICE = 256;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const left = bytes.length - i;
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    if (left > 1) out += ALPHABET[(n >> 6) & 63]!;
    if (left > 2) out += ALPHABET[n & 63]!;
  }
  return out;
}

/** Strict base64url (optional `=` padding); null when the text is not base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
  const s = text.replace(/={1,2}$/, '');
  if (s.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    const len = Math.min(4, s.length - i);
    for (let j = 0; j < 4; j++) {
      const c = j < len ? s.charCodeAt(i + j) : 65;
      const v = c < 128 ? LOOKUP[c]! : -1;
      if (v < 0) return null;
      n = (n << 6) | (j < len ? v : 0);
    }
    out[o++] = (n >> 16) & 255;
    if (len > 2) out[o++] = (n >> 8) & 255;
    if (len > 3) out[o++] = n & 255;
  }
  return out;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const cs = new CompressionStream('deflate-raw');
  const writer = cs.writable.getWriter();
  void writer.write(new Uint8Array(bytes)).catch(() => {});
  void writer.close().catch(() => {});
  const chunks: Uint8Array[] = [];
  const reader = cs.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return concat(chunks);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

type Inflated = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: boolean };

/** How much an inflate read (for tests: a bomb must stop early). */
export interface InflateProbe {
  /** Compressed bytes handed to the inflater. */
  fed: number;
  /** Inflated bytes read. */
  read: number;
}

/**
 * Inflates deflate-raw data, stopping (and cancelling the stream) once the output passes `limit` bytes. The input
 * goes in SLICE bytes at a time, each only when the inflater is ready, so at most a few slices' output exists.
 */
export async function inflateLimited(bytes: Uint8Array, limit: number, probe?: InflateProbe): Promise<Inflated> {
  let ds: DecompressionStream;
  try {
    ds = new DecompressionStream('deflate-raw');
  } catch {
    return { ok: false, tooLarge: false };
  }
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  let stop = false;
  const feeding = (async () => {
    try {
      for (let i = 0; i < bytes.length && !stop; i += SLICE) {
        await writer.ready;
        if (stop) return;
        const slice = bytes.slice(i, i + SLICE);
        if (probe) probe.fed += slice.length;
        await writer.write(slice);
      }
      if (!stop) await writer.close();
    } catch {
      // The reader reports the failure.
    }
  })();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (probe) probe.read = total;
      if (total > limit) {
        stop = true;
        await reader.cancel().catch(() => {});
        await writer.abort().catch(() => {});
        await feeding;
        return { ok: false, tooLarge: true };
      }
      chunks.push(value);
    }
  } catch {
    stop = true;
    await writer.abort().catch(() => {});
    await feeding;
    return { ok: false, tooLarge: false };
  }
  await feeding;
  return { ok: true, bytes: concat(chunks) };
}

function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; detail: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, detail: 'its text is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, detail: 'its text is not valid JSON' };
  }
}

/** The hash for a session: `#s=…`. */
export async function encodeShare(session: Session): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(session));
  return `#s=${toBase64Url(await deflate(json))}`;
}

/**
 * The `s=` value of a full URL, a hash (`#s=…`) or a bare `s=…`; null when there is none. Tolerates what mail
 * and chat apps do to long links: line breaks and spaces inside, and a percent-encoded `=`.
 */
function shareParam(text: string): string | null {
  let hash = (text.includes('#') ? text.slice(text.indexOf('#') + 1) : text).replace(/\s+/g, '');
  if (hash.includes('%')) {
    try {
      hash = decodeURIComponent(hash);
    } catch {
      // Left as it is: base64url has no '%', so a bad escape fails as base64 below.
    }
  }
  for (const part of hash.split('&')) if (part.startsWith('s=')) return part.slice(2);
  return null;
}

/** Opens a shared link (full URL, `#s=…` hash or `s=…`). Never throws. */
export async function decodeShare(text: string): Promise<SessionResult<Session>> {
  try {
    if (text.length > MAX_LINK_CHARS) return { ok: false, error: sessionErrors.tooLong(text.length, MAX_LINK_CHARS, 'link') };
    const param = shareParam(text);
    if (param === null) return { ok: false, error: sessionErrors.notSession('link') };
    if (param.length === 0) return { ok: false, error: sessionErrors.base64('it is empty') };
    const bytes = fromBase64Url(param);
    if (!bytes) return { ok: false, error: sessionErrors.base64('it has characters or a length that base64url does not allow') };
    const inflated = await inflateLimited(bytes, MAX_DECOMPRESSED_BYTES);
    if (!inflated.ok) return { ok: false, error: inflated.tooLarge ? sessionErrors.tooLarge(MAX_DECOMPRESSED_BYTES) : sessionErrors.decompress() };
    const json = parseJson(inflated.bytes);
    if (!json.ok) return { ok: false, error: sessionErrors.json(json.detail) };
    return parseSession(json.value);
  } catch {
    // Nothing above should throw; if something does, it is still a damaged link, not a crash.
    return { ok: false, error: sessionErrors.decompress() };
  }
}

/** The full share URL (`base` without its hash) for a session. */
export async function shareUrl(session: Session, base: string): Promise<string> {
  return `${base.replace(/#.*$/, '')}${await encodeShare(session)}`;
}

/** Whether the session's link on `base` stays under SHARE_URL_CHARS; when not, offer `encodeFile` instead. */
export async function shareFits(session: Session, base = ''): Promise<boolean> {
  return (await shareUrl(session, base)).length <= SHARE_URL_CHARS;
}

/** What the share dialog offers: a link when it fits, else a file. */
export async function shareOffer(session: Session, base: string): Promise<{ kind: 'link'; url: string } | { kind: 'file'; name: string; text: string }> {
  const url = await shareUrl(session, base);
  return url.length <= SHARE_URL_CHARS ? { kind: 'link', url } : { kind: 'file', name: fileName(session), text: encodeFile(session) };
}

/** A `.headscope.json` file for a session. */
export function encodeFile(session: Session): string {
  return `${JSON.stringify({ format: FILE_FORMAT, session }, null, 2)}\n`;
}

/** A safe file name from the session's name. */
export function fileName(session: Session): string {
  const stem = session.name
    .replace(/[^\p{L}\p{N}._ -]+/gu, '')
    .trim()
    .replace(/\s+/g, '-')
    .slice(0, 80);
  return `${stem || 'session'}${FILE_EXTENSION}`;
}

/** Opens a session file's text (wrapped, or a bare session object). Never throws. */
export function decodeFile(text: string): SessionResult<Session> {
  try {
    if (text.length > MAX_FILE_CHARS) return { ok: false, error: sessionErrors.tooLong(text.length, MAX_FILE_CHARS, 'file') };
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      return { ok: false, error: sessionErrors.json('its text is not valid JSON') };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: sessionErrors.notSession('file') };
    const wrapped = value as { format?: unknown; session?: unknown; version?: unknown };
    if (wrapped.format === FILE_FORMAT) return parseSession(wrapped.session);
    if ('version' in wrapped) return parseSession(value);
    return { ok: false, error: sessionErrors.notSession('file') };
  } catch {
    return { ok: false, error: sessionErrors.json('it could not be read') };
  }
}
