import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { objectInfo } from '../comfy/object-info.js';
import { createNodeRegistry } from '../nodes/index.js';
import { createHttpClient } from '../http/client.js';
import type { HttpClient } from '../http/types.js';
import { HttpError, sendJson } from './http-util.js';
import { PromptQueue, type QueueListener, type ServerQueue } from './queue.js';
import { HistoryFile } from './history-file.js';
import { defaultStateDir } from '../jobs/journal.js';
import { handleApi, type ApiContext } from './routes.js';
import { createRunner } from './runner.js';
import { provideExampleImages } from './example-images.js';
import { rejectionReason, TOKEN_COOKIE, type AccessPolicy } from './security.js';
import { defaultEditorDir, serveEditor } from './static.js';
import { WsHub } from './ws-hub.js';
import type { JobLimits } from '../jobs/slots.js';
import type { ProviderId } from '../providers/provider.js';
import { promptCheckOptions, type ServerImageOptions } from './prompt-route.js';
import { OffThreadChecker } from './prompt-off-thread.js';

/**
 * The local ComfyUI-compatible server: the editor at `/`, ComfyUI's HTTP API at `/` and
 * `/api/`, and the `/ws` event stream. Loopback only unless the caller binds elsewhere,
 * and every request must come from this server's own origin.
 */

export interface ServerOptions {
  port: number;
  host: string;
  outputDir: string;
  inputDir: string;
  env?: NodeJS.ProcessEnv;
  editorDir?: string;
  /** Passed to runWorkflow: false turns the output cache off, a string is its folder. */
  cache?: boolean | string;
  /** Folder of example workflows (default: the package's examples/). */
  examplesDir?: string;
  /** Per-provider limits on jobs in flight (--max-jobs runway=4); default unlimited. */
  maxJobs?: JobLimits;
  /** Where providers that fetch images by URL get local ones (RunComfy); see RunOptions.publicUrl. */
  publicUrl?: string;
  /** Set when the providers point at the built-in emulator: the editor says so. */
  emulatorUrl?: string;
  /** The provider ComfyUI's Runway nodes run on when a prompt does not choose (default runway). */
  provider?: ProviderId;
  /** How local images reach providers: --image-host, --public-url with --listen, --image-fit. */
  images?: ServerImageOptions;
  /** Required on every request when set (a non-loopback bind must set one). */
  authToken?: string;
  /** Extra names the Host header may carry besides loopback ones. */
  allowHosts?: string[];
  /**
   * redis://…: the queue and history live in Redis, shared by every server given the same URL, and
   * `reelgraph worker --redis` runs the prompts. Without it, prompts run in this process.
   */
  redis?: string;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 5000;
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Starts the server; resolves once it listens. @throws if the port cannot be bound. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const env = options.env ?? process.env;
  await Promise.all([mkdir(options.inputDir, { recursive: true }), mkdir(options.outputDir, { recursive: true })]);
  const examplesDir = options.examplesDir ?? join(packageRoot, 'examples');
  await provideExampleImages(examplesDir, options.inputDir);
  // ComfyUI's temp folder holds previews; ours is created fresh and private (0700) by mkdtemp, so
  // nobody can plant a folder or symlink at a predictable name before we start.
  const tempDir = await mkdtemp(join(tmpdir(), 'reelgraph-temp-'));
  const registry = createNodeRegistry();
  // One HTTP client (one connection pool) for every prompt this server runs, closed with the server.
  const http = createHttpClient();
  let hub: WsHub | undefined;
  const listener: QueueListener = { event: (event, clientId) => hub?.publish(event, clientId), changed: () => hub?.statusChanged() };
  const { queue, flushed } = await openQueue(options, env, http, listener).catch(async (error: unknown) => {
    // A Redis that does not answer: nothing of this server may stay behind.
    await rm(tempDir, { recursive: true, force: true });
    await http.close();
    throw error;
  });
  hub = new WsHub(() => queue.remaining());
  const base = { inputDir: options.inputDir, outputDir: options.outputDir, env, provider: options.provider, publicUrl: options.publicUrl, ...(options.images ? { images: options.images } : {}) };
  const offThread = OffThreadChecker.available() ? new OffThreadChecker(promptCheckOptions(base)) : undefined;
  const ctx: ApiContext = {
    ...(offThread ? { offThread } : {}),
    queue,
    registry,
    objectInfo: objectInfo(registry) as ApiContext['objectInfo'],
    inputDir: options.inputDir,
    outputDir: options.outputDir,
    env,
    provider: options.provider,
    ...(options.images ? { images: options.images } : {}),
    roots: { input: options.inputDir, output: options.outputDir, temp: tempDir },
    examplesDir,
    publicUrl: options.publicUrl,
    emulator: options.emulatorUrl !== undefined,
  };
  const editorDir = options.editorDir ?? defaultEditorDir;
  if (!isLoopbackBind(options.host) && !options.authToken) throw new Error(`Binding to ${options.host} exposes the API beyond this machine: an auth token is required.`);
  const policy: AccessPolicy = { token: options.authToken, extraHosts: new Set((options.allowHosts ?? []).map((h) => h.toLowerCase())) };
  const server = createServer((request, response) => void handle(request, response, ctx, editorDir, port(), policy));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(request, socket, head, hub!, port(), policy));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (): number => (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port()}`,
    close: async () => {
      await queue.close(CLOSE_GRACE_MS);
      await flushed();
      await hub!.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(tempDir, { recursive: true, force: true });
      await http.close();
      await offThread?.close();
    },
  };
}

/**
 * The queue in Redis (`--redis`), or in this process with its history saved in the state folder
 * (next to the job journal) so it survives restarts.
 */
async function openQueue(options: ServerOptions, env: NodeJS.ProcessEnv, http: HttpClient, listener: QueueListener): Promise<{ queue: ServerQueue & { close(graceMs?: number): Promise<void> }; flushed: () => Promise<void> }> {
  const images = { publicUrl: options.publicUrl, ...options.images };
  if (options.redis !== undefined) {
    const { RedisServerQueue } = await import('./redis-queue.js');
    const queue = await RedisServerQueue.open(options.redis, listener, { inputDir: options.inputDir, outputDir: options.outputDir, publicUrl: images.publicUrl, listen: images.listen, imageHost: images.imageHost, imageFit: images.imageFit });
    return { queue, flushed: async () => undefined };
  }
  const historyFile = new HistoryFile(defaultStateDir(env));
  const runner = createRunner({ inputDir: options.inputDir, outputDir: options.outputDir, env, cache: options.cache, http, ...images, ...(options.maxJobs ? { maxJobs: options.maxJobs } : {}) });
  const queue = new PromptQueue(runner, { ...listener, historyChanged: (entries) => void historyFile.save(entries) });
  queue.restoreHistory(await historyFile.load());
  return { queue, flushed: () => historyFile.flushed() };
}

export function isLoopbackBind(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

async function handle(request: IncomingMessage, response: ServerResponse, ctx: ApiContext, editorDir: string, port: number, policy: AccessPolicy): Promise<void> {
  try {
    const reason = rejectionReason(request, port, policy);
    if (reason) return sendJson(response, 403, { error: `Forbidden: ${reason}` });
    // The page opened with ?token= keeps it in a same-site cookie, so its own requests and websocket carry it.
    if (policy.token !== undefined) response.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${policy.token}; HttpOnly; SameSite=Strict; Path=/`);
    // A fixed base: the Host header was checked, but a value such as 127.999.999.999 must not make URL parsing throw.
    const url = parseRequestUrl(request.url);
    if (await handleApi(request, response, url, ctx)) return;
    if ((request.method === 'GET' || request.method === 'HEAD') && (await serveEditor(request, response, url.pathname, editorDir))) return;
    sendJson(response, 404, { error: 'Not found' });
  } catch (error) {
    sendError(request, response, error);
  }
}

function parseRequestUrl(path: string | undefined): URL {
  try {
    return new URL(path ?? '/', 'http://127.0.0.1');
  } catch {
    throw new HttpError(400, 'Malformed request path');
  }
}

function sendError(request: IncomingMessage, response: ServerResponse, error: unknown): void {
  const status = error instanceof HttpError ? error.status : 500;
  const message = error instanceof HttpError ? error.message : 'Internal server error';
  if (response.headersSent) return void response.destroy();
  // The client may still be sending a body we refused: discard it unbuffered and close the connection after answering.
  if (status === 413) {
    response.setHeader('Connection', 'close');
    request.resume();
  }
  sendJson(response, status, { error: message });
}

function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, hub: WsHub, port: number, policy: AccessPolicy): void {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://127.0.0.1');
  } catch {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const reason = rejectionReason(request, port, policy);
  if (reason || (url.pathname !== '/ws' && url.pathname !== '/api/ws')) {
    socket.end(`HTTP/1.1 ${reason ? '403 Forbidden' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return;
  }
  hub.accept(request, socket, head, url);
}
