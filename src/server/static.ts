import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { confine } from './files.js';

/** Serves the built editor (Vite's dist-editor/). */

/** dist-editor/ at the package root: two levels up from both src/server/ and dist/server/. */
export const defaultEditorDir = fileURLToPath(new URL('../../dist-editor/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** The page may only talk to this server: no inline scripts from elsewhere, no framing. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export async function serveEditor(request: IncomingMessage, response: ServerResponse, pathname: string, editorDir: string): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false; // A malformed escape names no file of ours: 404, not a thrown URIError.
  }
  const relative = pathname === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const path = await confine(editorDir, relative);
  if (!path) {
    if (pathname !== '/') return false;
    response.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>reelgraph</title><p>The editor is not built. Run <code>npm run build:editor</code>.</p>');
    return true;
  }
  const info = await stat(path);
  if (!info.isFile()) return false;
  response.writeHead(200, {
    ...PAGE_HEADERS,
    'Content-Type': TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': info.size,
    // Vite fingerprints assets; index.html must always be fresh.
    'Cache-Control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (request.method === 'HEAD') response.end();
  else createReadStream(path).pipe(response);
  return true;
}
