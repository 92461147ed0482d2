import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readImageHeader } from '../nodes/image-header.js';

/**
 * Serves local images to providers that only fetch URLs (RunComfy's Model API has no
 * upload endpoint and takes no data URIs). Only registered files are served, at
 * /f/<token>/<basename>?exp=<unix s>&sig=<HMAC>, and the links expire. Runway's
 * fetcher needs HEAD with a real Content-Type and a Content-Length, and no redirects.
 */

export interface FileHostOptions {
  /** The base URL providers reach this machine at (a tunnel), e.g. https://abc.trycloudflare.com. */
  publicUrl: string;
  /** host:port to listen on; default 127.0.0.1 and publicUrl's port. */
  listen?: string;
  /** How long a link works (default one hour). */
  ttlMs?: number;
  /** Injectable time for expiry tests. */
  now?: () => number;
}

interface HostedFile {
  path: string;
  name: string;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  bmp: 'image/bmp',
  tiff: 'image/tiff',
};

/** Parses "host:port", "[::1]:port", ":port" or "port". */
export function parseListen(listen: string): { host: string; port: number } {
  const text = listen.trim();
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!match) throw new Error(`--listen ${JSON.stringify(listen)} is not host:port`);
  return { host: match[1] || match[2] || '127.0.0.1', port: Number(match[3]) };
}

function defaultListen(publicUrl: URL): { host: string; port: number } {
  const port = publicUrl.port ? Number(publicUrl.port) : publicUrl.protocol === 'https:' ? 443 : 80;
  return { host: '127.0.0.1', port };
}

export class FileHost {
  readonly #publicUrl: URL;
  /** The public URL's path without a trailing slash ('' for a bare origin). */
  readonly #basePath: string;
  readonly #listen: { host: string; port: number };
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #secret = randomBytes(32);
  readonly #files = new Map<string, HostedFile>();
  #server: Promise<Server> | undefined;

  constructor(options: FileHostOptions) {
    this.#publicUrl = new URL(options.publicUrl);
    this.#basePath = this.#publicUrl.pathname.replace(/\/+$/, '');
    this.#listen = options.listen ? parseListen(options.listen) : defaultListen(this.#publicUrl);
    this.#ttlMs = options.ttlMs ?? 60 * 60 * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** A signed, expiring public URL for the file; starts the server on first use. */
  async url(absPath: string): Promise<string> {
    const header = await readImageHeader(absPath);
    const contentType = CONTENT_TYPES[header.format];
    if (!contentType) throw new Error(`cannot serve ${basename(absPath)}: ${header.format} is not an image type providers fetch`);
    await this.#start();
    const token = randomBytes(16).toString('hex');
    const name = basename(absPath);
    this.#files.set(token, { path: absPath, name, contentType });
    const exp = Math.floor((this.#now() + this.#ttlMs) / 1000);
    const path = `/f/${token}/${encodeURIComponent(name)}`;
    return `${this.#publicUrl.origin}${this.#basePath}${path}?exp=${exp}&sig=${this.#sign(path, exp)}`;
  }

  /** The address actually listened on (the port is chosen by the OS when listen says :0). */
  async address(): Promise<{ host: string; port: number }> {
    const server = await this.#start();
    const info = server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  async close(): Promise<void> {
    const pending = this.#server;
    this.#server = undefined;
    this.#files.clear();
    const server = await pending?.catch(() => undefined);
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #sign(path: string, exp: number): string {
    return createHmac('sha256', this.#secret).update(`${path}\n${exp}`).digest('base64url');
  }

  #start(): Promise<Server> {
    const { host, port } = this.#listen;
    this.#server ??= new Promise<Server>((resolve, reject) => {
      const server = createServer((req, res) => void this.#handle(req, res));
      server.once('error', (error: NodeJS.ErrnoException) => {
        this.#server = undefined;
        reject(new Error(`cannot serve local images on ${host}:${port} (${error.code ?? error.message}); pass --listen host:port for the address your --public-url tunnel forwards to`, { cause: error }));
      });
      server.listen(port, host, () => resolve(server));
    });
    return this.#server;
  }

  /** The registered file a request may see, or the status to refuse it with. */
  #authorize(req: IncomingMessage): HostedFile | number {
    if (req.method !== 'GET' && req.method !== 'HEAD') return 405;
    const url = new URL(req.url ?? '/', 'http://host');
    // A tunnel may forward the public URL's path prefix or strip it; signatures cover /f/… only.
    const path = url.pathname.startsWith(`${this.#basePath}/f/`) ? url.pathname.slice(this.#basePath.length) : url.pathname;
    const match = /^\/f\/([0-9a-f]{32})\/([^/]+)$/.exec(path);
    const file = match ? this.#files.get(match[1]!) : undefined;
    if (!match || !file || match[2] !== encodeURIComponent(file.name)) return 404;
    const exp = Number(url.searchParams.get('exp'));
    const given = Buffer.from(url.searchParams.get('sig') ?? '');
    const expected = Buffer.from(this.#sign(path, exp));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 403;
    if (!Number.isFinite(exp) || exp * 1000 <= this.#now()) return 403;
    return file;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const file = this.#authorize(req);
    if (typeof file === 'number') {
      res.writeHead(file, { 'Content-Type': 'text/plain' }).end(file === 405 ? 'Method not allowed\n' : 'Not found or link expired\n');
      return;
    }
    try {
      const { size } = await stat(file.path);
      res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': String(size), 'Cache-Control': 'no-store' });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      await pipeline(createReadStream(file.path), res);
    } catch {
      // The file vanished or the fetcher hung up; nothing useful to tell either.
      if (!res.headersSent) res.writeHead(404).end();
      else res.destroy();
    }
  }
}
