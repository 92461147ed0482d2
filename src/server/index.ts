import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedWorkflow } from '../comfy/index.js';
import { objectInfo } from '../comfy/object-info.js';
import { createNodeRegistry } from '../nodes/index.js';
import { createHttpClient } from '../http/client.js';
import { HttpError, sendJson } from './http-util.js';
import { PromptQueue } from './queue.js';
import { handleApi, type ApiContext } from './routes.js';
import { createRunner } from './runner.js';
import { rejectionReason } from './security.js';
import { defaultEditorDir, serveEditor } from './static.js';
import { WsHub } from './ws-hub.js';

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
  // ComfyUI's temp folder holds previews; ours is per-process and outside the output folder.
  const tempDir = join(tmpdir(), `reelgraph-temp-${process.pid}`);
  const registry = createNodeRegistry();
  const workflows = new Map<string, ParsedWorkflow>();
  // One HTTP client (one connection pool) for every prompt this server runs, closed with the server.
  const http = createHttpClient();
  let hub: WsHub | undefined;
  const queue = new PromptQueue(createRunner({ inputDir: options.inputDir, outputDir: options.outputDir, env, cache: options.cache, http }, workflows), {
    event: (event, clientId) => hub?.publish(event, clientId),
    changed: () => hub?.statusChanged(),
  });
  hub = new WsHub(() => queue.remaining());
  const ctx: ApiContext = {
    queue,
    registry,
    workflows,
    objectInfo: objectInfo(registry) as ApiContext['objectInfo'],
    inputDir: options.inputDir,
    outputDir: options.outputDir,
    env,
    roots: { input: options.inputDir, output: options.outputDir, temp: tempDir },
    examplesDir: options.examplesDir ?? join(packageRoot, 'examples'),
  };
  const editorDir = options.editorDir ?? defaultEditorDir;
  const server = createServer((request, response) => void handle(request, response, ctx, editorDir, port()));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(request, socket, head, hub!, port()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (): number => (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port()}`,
    close: async () => {
      queue.abortAll();
      // A node that ignores its abort signal must not keep the process alive forever.
      await Promise.race([queue.drained(), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
      await hub!.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await http.close();
    },
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, ctx: ApiContext, editorDir: string, port: number): Promise<void> {
  try {
    const reason = rejectionReason(request, port);
    if (reason) return sendJson(response, 403, { error: `Forbidden: ${reason}` });
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    if (await handleApi(request, response, url, ctx)) return;
    if ((request.method === 'GET' || request.method === 'HEAD') && (await serveEditor(request, response, url.pathname, editorDir))) return;
    sendJson(response, 404, { error: 'Not found' });
  } catch (error) {
    sendError(request, response, error);
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

function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, hub: WsHub, port: number): void {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const reason = rejectionReason(request, port);
  if (reason || (url.pathname !== '/ws' && url.pathname !== '/api/ws')) {
    socket.end(`HTTP/1.1 ${reason ? '403 Forbidden' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return;
  }
  hub.accept(request, socket, head, url);
}
