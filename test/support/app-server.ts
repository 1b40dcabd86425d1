import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  // onnxruntime-web compiles its WASM with WebAssembly.compileStreaming, which needs this type.
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface Mount {
  dir: string;
  /** Bytes per second (to watch a download's progress); default unthrottled. */
  rate?: number;
}

export interface AppServerOptions {
  /** Extra folders by URL prefix, e.g. { '/hub/owner/name/resolve/main/': { dir: '/path/to/model' } } (checked before `root`). */
  mounts?: Record<string, Mount>;
}

/**
 * A static server for the built app that behaves like a real one where the model loader cares: HEAD,
 * Content-Length, byte ranges (206) and ETags. 127.0.0.1, random port.
 */
export async function serveApp(
  root: string,
  options: AppServerOptions = {},
): Promise<{ url: string; close: () => Promise<void>; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handle(root, options, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function handle(root: string, options: AppServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  let base = root;
  let rel = pathname;
  let rate: number | undefined;
  for (const [prefix, mount] of Object.entries(options.mounts ?? {})) {
    if (pathname.startsWith(prefix)) {
      base = mount.dir;
      rel = `/${pathname.slice(prefix.length)}`;
      rate = mount.rate;
      break;
    }
  }
  const safe = normalize(rel).replace(/^(\.\.[/\\])+/, '');
  const file = join(base, safe.endsWith('/') ? `${safe}index.html` : safe);
  let size: number;
  let mtime: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a file');
    size = s.size;
    mtime = s.mtimeMs;
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const headers: Record<string, string> = {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: `"${size.toString(16)}-${Math.floor(mtime).toString(16)}"`,
    'cache-control': 'no-cache',
  };
  let start = 0;
  let end = size; // exclusive
  let status = 200;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    const a = range[1] === '' ? undefined : Number(range[1]);
    const b = range[2] === '' ? undefined : Number(range[2]);
    if (a === undefined && b !== undefined) start = Math.max(0, size - b);
    else {
      start = a ?? 0;
      end = b === undefined ? size : Math.min(size, b + 1);
    }
    if (start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
  }
  headers['content-length'] = String(end - start);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || end === start) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end: end - 1, highWaterMark: 64 * 1024 });
  if (rate === undefined) {
    stream.pipe(res);
    return;
  }
  // Throttled: 64 KiB chunks spaced to the rate, so a browser sees a download in progress.
  for await (const chunk of stream) {
    if (res.destroyed) break;
    res.write(chunk);
    await new Promise((r) => setTimeout(r, (1000 * (chunk as Buffer).length) / rate));
  }
  res.end();
}
