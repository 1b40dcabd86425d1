/**
 * Typed reasons a session could not be opened (from a link, a file or the local store). Every error carries a
 * message a user can act on; none of them is ever thrown out of the decoders.
 */

export type SessionPath = (string | number)[];

export type SessionDecodeError =
  /** The link or text is longer than any session Headscope writes. */
  | { kind: 'tooLong'; length: number; limit: number; message: string }
  /** The text is not a session link (no `s=` part) or not a session file. */
  | { kind: 'notSession'; message: string }
  /** The `s=` part has characters outside base64url (often a link cut or altered by a chat app). */
  | { kind: 'base64'; message: string }
  /** The bytes are not a valid compressed stream. */
  | { kind: 'decompress'; message: string }
  /** The compressed data would expand past the limit (reading stopped there). */
  | { kind: 'tooLarge'; limit: number; message: string }
  /** The data is not valid UTF-8 JSON. */
  | { kind: 'json'; message: string }
  /** Valid JSON that is not a valid session: `path` locates the first problem. */
  | { kind: 'schema'; path: SessionPath; issues: { path: SessionPath; message: string }[]; message: string }
  /** Written by a newer Headscope than this one. */
  | { kind: 'futureVersion'; version: number; supported: number; message: string };

export type SessionResult<T> = { ok: true; session: T } | { ok: false; error: SessionDecodeError };

export type SessionErrorKind = SessionDecodeError['kind'];

const kb = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

export const sessionErrors = {
  tooLong(length: number, limit: number, what: 'link' | 'file'): SessionDecodeError {
    return {
      kind: 'tooLong',
      length,
      limit,
      message:
        what === 'link'
          ? `This link is ${kb(length)} long; Headscope links are at most ${kb(limit)}. Ask for the session as a .headscope.json file instead.`
          : `This file is ${kb(length)}; session files are at most ${kb(limit)}. Check that it is a .headscope.json session file.`,
    };
  },
  notSession(what: 'link' | 'file'): SessionDecodeError {
    return {
      kind: 'notSession',
      message:
        what === 'link'
          ? 'This link holds no Headscope session (no "#s=…" part). Copy the whole link, including everything after "#".'
          : "This file is not a Headscope session. Choose a .headscope.json file saved from Headscope's share dialog.",
    };
  },
  base64(detail: string): SessionDecodeError {
    return {
      kind: 'base64',
      message: `This session link is damaged (${detail}). It was probably cut short or changed when it was pasted; copy the whole link again.`,
    };
  },
  decompress(): SessionDecodeError {
    return { kind: 'decompress', message: 'This session link is damaged: its data does not decompress. Copy the whole link again, or ask for a session file.' };
  },
  tooLarge(limit: number): SessionDecodeError {
    return {
      kind: 'tooLarge',
      limit,
      message: `This session would expand past ${kb(limit)}, more than any session Headscope writes; it was not opened. The link may be hostile.`,
    };
  },
  json(detail: string): SessionDecodeError {
    return { kind: 'json', message: `This session is damaged: ${detail}. Copy the link (or export the file) again.` };
  },
  schema(issues: { path: SessionPath; message: string }[]): SessionDecodeError {
    const first = issues[0] ?? { path: [], message: 'invalid' };
    const where = first.path.length ? first.path.join('.') : 'the session';
    return {
      kind: 'schema',
      path: first.path,
      issues: issues.slice(0, 20),
      message: `This is not a valid Headscope session: ${where}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more problems)` : ''}.`,
    };
  },
  futureVersion(version: number, supported: number): SessionDecodeError {
    return {
      kind: 'futureVersion',
      version,
      supported,
      message: `This session was made by a newer Headscope (session format ${version}; this one reads up to ${supported}). Reload the page to get the latest version.`,
    };
  },
};
