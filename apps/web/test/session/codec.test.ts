import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFile,
  decodeShare,
  encodeFile,
  encodeShare,
  FILE_FORMAT,
  fromBase64Url,
  inflateLimited,
  MAX_DECOMPRESSED_BYTES,
  MAX_FILE_CHARS,
  MAX_LINK_CHARS,
  SHARE_URL_CHARS,
  shareFits,
  shareOffer,
  toBase64Url,
} from '../../src/session/codec.js';
import type { SessionDecodeError, SessionErrorKind, SessionResult } from '../../src/session/errors.js';
import { newSession, SESSION_VERSION, type Session } from '../../src/session/schema.js';
import { sessionArb } from './arbitrary.js';

const KINDS: SessionErrorKind[] = ['tooLong', 'notSession', 'base64', 'decompress', 'tooLarge', 'json', 'schema', 'futureVersion'];

async function deflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A link made of any JSON value, compressed the way encodeShare does it. */
async function linkOf(value: unknown): Promise<string> {
  return `#s=${toBase64Url(await deflateRaw(new TextEncoder().encode(JSON.stringify(value))))}`;
}

function errorOf(r: SessionResult<Session>): SessionDecodeError {
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

/** A result is either a valid session or a known error with a message. */
function expectTyped(r: SessionResult<Session>) {
  if (r.ok) return;
  expect(KINDS).toContain(r.error.kind);
  expect(r.error.message.length).toBeGreaterThan(20);
}

const base = newSession({ kind: 'bundled', id: 'headscope-tiny' }, 'The cat sat on the mat.', 1_700_000_000_000, 'Induction heads');

describe('base64url', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const s = toBase64Url(bytes);
        expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(fromBase64Url(s)).toEqual(bytes);
      }),
    );
  });
  it('matches the platform encoder and rejects other alphabets', () => {
    const bytes = new Uint8Array([251, 255, 191, 0, 1, 2, 3]);
    expect(toBase64Url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
    expect(fromBase64Url('ab+/')).toBeNull();
    expect(fromBase64Url('abcde')).toBeNull();
    expect(fromBase64Url('ab cd')).toBeNull();
    expect(fromBase64Url('YQ==')).toEqual(new Uint8Array([97]));
  });
});

describe('share links', () => {
  it('encode → decode is the identity on random valid sessions', async () => {
    await fc.assert(
      fc.asyncProperty(sessionArb, async (s) => {
        const hash = await encodeShare(s);
        expect(hash).toMatch(/^#s=[A-Za-z0-9_-]+$/);
        const r = await decodeShare(hash);
        expect(r).toEqual({ ok: true, session: s });
      }),
      { numRuns: 150 },
    );
  });

  it('reads the session from a full URL, a hash or a bare s= part', async () => {
    const hash = await encodeShare(base);
    for (const text of [`https://example.org/headscope/?model=x${hash}`, hash, hash.slice(1), `#a=1&${hash.slice(1)}&b=2`]) {
      expect(await decodeShare(text)).toEqual({ ok: true, session: base });
    }
    // What mail and chat apps do to long links: wrapped lines, an encoded '='.
    const wrapped = hash.replace(/(.{40})/g, '$1\n  ');
    expect(await decodeShare(`https://example.org/\n${wrapped}`)).toEqual({ ok: true, session: base });
    expect(await decodeShare(hash.replace('s=', 's%3D'))).toEqual({ ok: true, session: base });
    expect(errorOf(await decodeShare(`${hash}%zz`)).kind).toBe('base64');
    expect(errorOf(await decodeShare('https://example.org/#x=1')).kind).toBe('notSession');
    expect(errorOf(await decodeShare('#s=')).kind).toBe('base64');
  });

  it('decoding random strings never throws and gives a typed error or a session', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ maxLength: 300 }).map((s) => `#s=${s}`),
        ),
        async (text) => {
          expectTyped(await decodeShare(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decoding random base64url and mutated valid links never throws', async () => {
    const valid = (await encodeShare({ ...base, prompts: ['a', 'b <b>c</b>', 'd'.repeat(50)] })).slice(3);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const mutation = fc.oneof(
      fc.record({ at: fc.nat(), ch: fc.constantFrom(...alphabet.split('')) }).map(({ at, ch }) => {
        const i = at % valid.length;
        return valid.slice(0, i) + ch + valid.slice(i + 1);
      }),
      fc.nat().map((n) => valid.slice(0, n % valid.length)),
      fc.record({ at: fc.nat(), extra: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/) }).map(({ at, extra }) => {
        const i = at % valid.length;
        return valid.slice(0, i) + extra + valid.slice(i);
      }),
      fc.uint8Array({ maxLength: 200 }).map(toBase64Url),
    );
    const kinds = new Set<string>();
    await fc.assert(
      fc.asyncProperty(mutation, async (s) => {
        const r = await decodeShare(`#s=${s}`);
        expectTyped(r);
        kinds.add(r.ok ? 'ok' : r.error.kind);
      }),
      { numRuns: 400 },
    );
    expect(kinds.has('decompress')).toBe(true);
  });

  it('rejects a link of several MB before looking at it', async () => {
    const huge = `https://example.org/#s=${'A'.repeat(5 << 20)}`;
    const t0 = performance.now();
    const e = errorOf(await decodeShare(huge));
    expect(performance.now() - t0).toBeLessThan(50);
    expect(e).toMatchObject({ kind: 'tooLong', limit: MAX_LINK_CHARS });
    expect(e.message).toMatch(/\.headscope\.json file/);
  });

  it('stops inflating a zip bomb at the limit (40 MB of zeros in a link, 50 MB directly)', async () => {
    // Deflate expands at most ~1032×, so the largest bomb that fits in a link is about 48 MB.
    const bomb = await deflateRaw(new Uint8Array(40 << 20));
    const link = `#s=${toBase64Url(bomb)}`;
    expect(link.length).toBeLessThan(MAX_LINK_CHARS);
    const t0 = performance.now();
    const e = errorOf(await decodeShare(link));
    expect(e).toMatchObject({ kind: 'tooLarge', limit: MAX_DECOMPRESSED_BYTES });
    // Stopping early is much faster than inflating 40 MB (about 0.4 s here).
    expect(performance.now() - t0).toBeLessThan(1_000);
    const bigger = await deflateRaw(new Uint8Array(50 << 20));
    const probe = { fed: 0, read: 0 };
    expect(await inflateLimited(bigger, MAX_DECOMPRESSED_BYTES, probe)).toEqual({ ok: false, tooLarge: true });
    // Only part of the ~50 KiB input went in (Node's stream buffers hold 16 KiB), and reading stopped just past the limit.
    expect(probe.fed).toBeLessThan(bigger.length / 2);
    expect(probe.read).toBeGreaterThan(MAX_DECOMPRESSED_BYTES);
    expect(probe.read).toBeLessThan(MAX_DECOMPRESSED_BYTES + (1 << 20));
  });

  it('inflateLimited hands back at most the limit', async () => {
    const bytes = await deflateRaw(new Uint8Array(10_000).fill(7));
    const small = await inflateLimited(bytes, 5_000);
    expect(small).toEqual({ ok: false, tooLarge: true });
    const ok = await inflateLimited(bytes, 10_000);
    expect(ok.ok && ok.bytes.length).toBe(10_000);
    expect(await inflateLimited(new Uint8Array([0xff, 0xff, 0xff]), 100)).toEqual({ ok: false, tooLarge: false });
    // Valid data cut short.
    expect((await inflateLimited(bytes.slice(0, bytes.length - 2), 20_000)).ok).toBe(false);
  });

  it('valid compression of invalid JSON or an invalid schema gives a json / schema error with the path', async () => {
    const notJson = `#s=${toBase64Url(await deflateRaw(new TextEncoder().encode('{"version": 2,')))}`;
    expect(errorOf(await decodeShare(notJson)).kind).toBe('json');
    const badUtf8 = `#s=${toBase64Url(await deflateRaw(new Uint8Array([0x22, 0xff, 0x22])))}`;
    expect(errorOf(await decodeShare(badUtf8)).kind).toBe('json');

    const e = errorOf(await decodeShare(await linkOf({ ...base, selection: { ...base.selection, layer: -1 } })));
    expect(e).toMatchObject({ kind: 'schema', path: ['selection', 'layer'] });
    expect(e.message).toContain('selection.layer');
    expect(errorOf(await decodeShare(await linkOf({ ...base, prompts: [] }))).kind).toBe('schema');
    expect(errorOf(await decodeShare(await linkOf({ ...base, promptIndex: 1 })))).toMatchObject({ path: ['promptIndex'] });
    expect(errorOf(await decodeShare(await linkOf({ ...base, model: { kind: 'hub', repo: '../../etc/passwd', revision: 'main' } })))).toMatchObject({
      path: ['model', 'repo'],
    });
    expect(errorOf(await decodeShare(await linkOf([1, 2, 3]))).kind).toBe('schema');
    expect(errorOf(await decodeShare(await linkOf('"hello"'))).kind).toBe('schema');
    expect(errorOf(await decodeShare(await linkOf(null))).kind).toBe('schema');
    // JSON has no NaN/Infinity; 1e999 parses as Infinity and is refused.
    const inf = `#s=${toBase64Url(await deflateRaw(new TextEncoder().encode(JSON.stringify(base).replace('"bos":null', '"bos":null,"detectors":{"x":1e999}'))))}`;
    expect(errorOf(await decodeShare(inf))).toMatchObject({ kind: 'schema', path: ['detectors', 'x'] });
  });

  it('keeps prompts with HTML and script exactly as plain strings', async () => {
    const prompts = ['<script>alert(1)</script>', '<img src=x onerror="alert(document.cookie)">', '"; DROP TABLE x; --', '\u0000\u202e\ud800 ]]>'];
    const s: Session = { ...base, name: '<b onmouseover=alert(1)>hi</b>', prompts, promptIndex: 3 };
    const r = await decodeShare(await encodeShare(s));
    expect(r).toEqual({ ok: true, session: s });
    if (r.ok) for (const p of r.session.prompts) expect(typeof p).toBe('string');
  });

  it('ignores prototype keys and refuses oversized fields', async () => {
    const proto = JSON.stringify(base).replace('"bos":null', '"bos":null,"detectors":{"__proto__":{"polluted":true},"k":1}');
    const r = await decodeShare(`#s=${toBase64Url(await deflateRaw(new TextEncoder().encode(proto)))}`);
    // zod drops `__proto__` keys: the record keeps only real settings, and no prototype is touched.
    expect(r).toEqual({ ok: true, session: { ...base, detectors: { k: 1 } } });
    if (r.ok) expect(Object.getPrototypeOf(r.session.detectors)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(errorOf(await decodeShare(await linkOf({ ...base, prompts: ['x'.repeat(20_000)] })))).toMatchObject({ kind: 'schema', path: ['prompts', 0] });
    expect(errorOf(await decodeShare(await linkOf({ ...base, prompts: Array(101).fill('a') })))).toMatchObject({ kind: 'schema', path: ['prompts'] });
  });

  it('survives deep nesting and huge arrays inside the size limit', async () => {
    const deep = `#s=${toBase64Url(await deflateRaw(new TextEncoder().encode(`${'['.repeat(400_000)}${']'.repeat(400_000)}`)))}`;
    expectTyped(await decodeShare(deep));
    const nestedDetector = JSON.stringify(base).replace('"bos":null', `"bos":null,"detectors":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(errorOf(await decodeShare(`#s=${toBase64Url(await deflateRaw(new TextEncoder().encode(nestedDetector)))}`)).kind).toBe('schema');
    const t0 = performance.now();
    const e = errorOf(await decodeShare(await linkOf({ ...base, prompts: Array(300_000).fill(0) })));
    expect(e).toMatchObject({ kind: 'schema', path: ['prompts'] });
    if (e.kind === 'schema') expect(e.issues.length).toBeLessThanOrEqual(20);
    expect(performance.now() - t0).toBeLessThan(3_000);
  });

  it('reports a session from a newer Headscope', async () => {
    const e = errorOf(await decodeShare(await linkOf({ ...base, version: SESSION_VERSION + 1, something: 'new' })));
    expect(e).toMatchObject({ kind: 'futureVersion', version: SESSION_VERSION + 1, supported: SESSION_VERSION });
    expect(e.message).toMatch(/newer Headscope/);
  });

  it('offers a file when the link would be too long', async () => {
    expect(await shareFits(base, 'https://example.org/')).toBe(true);
    const offer = await shareOffer(base, 'https://example.org/app/#old');
    expect(offer.kind).toBe('link');
    if (offer.kind === 'link') expect(offer.url.startsWith('https://example.org/app/#s=')).toBe(true);
    // Random text compresses badly: 20 prompts of 1,000 random characters do not fit in a link.
    const rnd = fc.sample(fc.string({ unit: 'grapheme-ascii', minLength: 1000, maxLength: 1000 }), { numRuns: 20, seed: 1 });
    const big: Session = { ...base, prompts: rnd };
    expect(await shareFits(big)).toBe(false);
    const file = await shareOffer(big, 'https://example.org/');
    expect(file.kind).toBe('file');
    if (file.kind === 'file') {
      expect(file.name).toBe('Induction-heads.headscope.json');
      expect(decodeFile(file.text)).toEqual({ ok: true, session: big });
    }
    expect(SHARE_URL_CHARS).toBeLessThan(MAX_LINK_CHARS);
  });
});

describe('session files', () => {
  it('encodeFile → decodeFile is the identity on random valid sessions', () => {
    fc.assert(
      fc.property(sessionArb, (s) => {
        expect(decodeFile(encodeFile(s))).toEqual({ ok: true, session: s });
      }),
      { numRuns: 100 },
    );
  });

  it('reads a bare session object too, and refuses other JSON', () => {
    expect(decodeFile(JSON.stringify(base))).toEqual({ ok: true, session: base });
    expect(errorOf(decodeFile('{"hello": 1}')).kind).toBe('notSession');
    expect(errorOf(decodeFile('[]')).kind).toBe('notSession');
    expect(errorOf(decodeFile('not json')).kind).toBe('json');
    expect(errorOf(decodeFile(JSON.stringify({ format: FILE_FORMAT, session: { ...base, version: 99 } }))).kind).toBe('futureVersion');
    expect(errorOf(decodeFile(JSON.stringify({ format: FILE_FORMAT, session: { ...base, bos: 'yes' } })))).toMatchObject({ kind: 'schema', path: ['bos'] });
  });

  it('refuses files past the size limit', () => {
    const e = errorOf(decodeFile(' '.repeat(MAX_FILE_CHARS + 1)));
    expect(e).toMatchObject({ kind: 'tooLong', limit: MAX_FILE_CHARS });
  });

  it('decoding random text never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json()), (text) => {
        const r = decodeFile(text);
        if (!r.ok) expect(KINDS).toContain(r.error.kind);
      }),
      { numRuns: 300 },
    );
  });
});
