/**
 * A real HTTP server (node:http on 127.0.0.1, port 0) serving files in the hub's URL layout
 * `/${repo}/resolve/${revision}/${file}` and plain paths, with single-range support and switches to
 * misbehave: ignore Range, or drop the connection part-way through a body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RequestLog {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
}

export interface TestServer {
  url: string;
  log: RequestLog[];
  /** Path (e.g. "/org/m/resolve/main/model.safetensors") → bytes. */
  files: Map<string, Uint8Array>;
  /** Ignore Range headers (answer 200 with the whole file). */
  noRanges: boolean;
  /** Cut the next N range-less GETs of a path after `bytes` bytes (the socket is destroyed). */
  dropOnce: Map<string, { bytes: number; times: number }>;
  /** Delay each body chunk (ms), to make abort and rate measurable. */
  chunkDelayMs: number;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const state: Omit<TestServer, 'url' | 'close'> = { log: [], files: new Map(), noRanges: false, dropOnce: new Map(), chunkDelayMs: 0 };
  const server: Server = createServer((req, res) => void handle(state, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export function hubPath(repo: string, revision: string, file: string): string {
  return `/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
}

async function handle(s: Omit<TestServer, 'url' | 'close'>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const range = req.headers.range;
  const entry = { method: req.method ?? 'GET', path, range, status: 0 };
  s.log.push(entry);
  const body = s.files.get(path);
  if (!body) {
    entry.status = 404;
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
    return;
  }
  const etag = `"${body.byteLength}-${body[body.byteLength >> 1] ?? 0}"`;
  let start = 0;
  let end = body.byteLength; // exclusive
  let status = 200;
  if (range && !s.noRanges) {
    const m = /^bytes=(\d+)-(\d*)$/.exec(range);
    if (!m) {
      entry.status = 400;
      res.writeHead(400).end();
      return;
    }
    start = Number(m[1]);
    end = m[2] ? Math.min(body.byteLength, Number(m[2]) + 1) : body.byteLength;
    if (start >= body.byteLength) {
      entry.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${body.byteLength}` }).end();
      return;
    }
    status = 206;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(end - start),
    etag,
    'accept-ranges': s.noRanges ? 'none' : 'bytes',
  };
  if (status === 206) headers['content-range'] = `bytes ${start}-${end - 1}/${body.byteLength}`;
  entry.status = status;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const drop = range === undefined ? s.dropOnce.get(path) : undefined;
  if (drop && drop.times > 0) {
    drop.times--;
    // Flush part of the body, then kill the socket: the client sees a body cut short.
    res.write(body.subarray(start, start + drop.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  const CHUNK = 16 * 1024;
  for (let at = start; at < end; at += CHUNK) {
    if (res.destroyed) return;
    if (s.chunkDelayMs) await new Promise((r) => setTimeout(r, s.chunkDelayMs));
    const ok = res.write(body.subarray(at, Math.min(end, at + CHUNK)));
    if (!ok) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}
