import type { IncomingMessage, ServerResponse } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROVIDERS } from '../providers/catalog.js';
import { serveView, type FileRoots } from './files.js';
import { HttpError, isRecord, readJson, sendJson } from './http-util.js';
import { postEstimate } from './estimate-route.js';
import { postImport } from './import-route.js';
import { postPrompt, type PromptRouteContext } from './prompt-route.js';
import { postUpload } from './upload.js';
import { listInputImages } from './input-images.js';

/** ComfyUI's API routes, served at both `/x` and `/api/x`. */

export interface ApiContext extends PromptRouteContext {
  objectInfo: Record<string, unknown>;
  roots: FileRoots;
  /** Folder of example workflows for the editor's Open menu. */
  examplesDir: string;
  /** The providers point at the built-in emulator (`serve --emulator`). */
  emulator: boolean;
}

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL, ctx: ApiContext) => Promise<void> | void;

const SMALL_BODY_BYTES = 1024 * 1024;

const routes: Record<string, Handler> = {
  'POST /prompt': (request, response, _url, ctx) => postPrompt(request, response, ctx),
  'GET /prompt': (_request, response, _url, ctx) => sendJson(response, 200, { exec_info: { queue_remaining: ctx.queue.remaining() } }),
  'GET /queue': (_request, response, _url, ctx) => sendJson(response, 200, ctx.queue.snapshot()),
  'POST /queue': async (request, response, _url, ctx) => {
    const body = await readObject(request);
    if (body.clear === true) ctx.queue.clear();
    if (Array.isArray(body.delete)) ctx.queue.delete(body.delete.map(String));
    sendJson(response, 200, {});
  },
  'POST /interrupt': async (request, response, _url, ctx) => {
    const body = await readObject(request);
    ctx.queue.interrupt(typeof body.prompt_id === 'string' ? body.prompt_id : undefined);
    sendJson(response, 200, {});
  },
  'GET /history': (_request, response, url, ctx) => {
    const max = url.searchParams.get('max_items');
    sendJson(response, 200, ctx.queue.historyView(max === null ? undefined : Number.parseInt(max, 10)));
  },
  'POST /history': async (request, response, _url, ctx) => {
    const body = await readObject(request);
    if (body.clear === true) ctx.queue.clearHistory();
    if (Array.isArray(body.delete)) ctx.queue.deleteHistory(body.delete.map(String));
    sendJson(response, 200, {});
  },
  'GET /object_info': (_request, response, _url, ctx) => sendJson(response, 200, ctx.objectInfo),
  'GET /view': (request, response, url, ctx) => serveView(request, response, url, ctx.roots),
  'HEAD /view': (request, response, url, ctx) => serveView(request, response, url, ctx.roots),
  'POST /upload/image': (request, response, _url, ctx) => postUpload(request, response, ctx.roots),
  'GET /system_stats': (_request, response) =>
    sendJson(response, 200, { system: { os: process.platform, python_version: 'n/a', embedded_python: false, comfyui_version: 'reelgraph' }, devices: [] }),
  'GET /features': (_request, response) => sendJson(response, 200, {}),
  'GET /extensions': (_request, response) => sendJson(response, 200, []),
  'GET /embeddings': (_request, response) => sendJson(response, 200, []),
  'POST /reelgraph/estimate': (request, response, _url, ctx) => postEstimate(request, response, ctx),
  'POST /reelgraph/import': (request, response, url, ctx) => postImport(request, response, url, ctx.registry),
  'GET /reelgraph/catalog': (_request, response) => sendJson(response, 200, PROVIDERS),
  'GET /reelgraph/examples': (_request, response, _url, ctx) => listExamples(response, ctx.examplesDir),
  'GET /reelgraph/input-images': (_request, response, _url, ctx) => listInputImages(response, ctx.inputDir),
  'GET /reelgraph/mode': (_request, response, _url, ctx) => sendJson(response, 200, { emulator: ctx.emulator }),
};

/** Handles an API request; returns false when the path is not an API route. */
export async function handleApi(request: IncomingMessage, response: ServerResponse, url: URL, ctx: ApiContext): Promise<boolean> {
  const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
  const method = request.method ?? 'GET';
  const direct = routes[`${method} ${path}`];
  if (direct) {
    await direct(request, response, url, ctx);
    return true;
  }
  const param = /^\/(object_info|history|reelgraph\/examples)\/(.+)$/.exec(path);
  if (param && method === 'GET') {
    await paramRoute(param[1]!, decodeURIComponent(param[2]!), response, ctx);
    return true;
  }
  if (Object.keys(routes).some((key) => key.endsWith(` ${path}`))) throw new HttpError(405, `${method} is not allowed on ${path}`);
  return false;
}

async function paramRoute(kind: string, value: string, response: ServerResponse, ctx: ApiContext): Promise<void> {
  if (kind === 'history') return sendJson(response, 200, ctx.queue.historyOf(value));
  if (kind === 'object_info') {
    const info = ctx.objectInfo[value];
    return sendJson(response, 200, info ? { [value]: info } : {});
  }
  // One example workflow, by its plain file name only.
  if (!/^[\w.-]+\.json$/.test(value)) throw new HttpError(404, 'No such example');
  const text = await readFile(join(ctx.examplesDir, value), 'utf8').catch(() => undefined);
  if (text === undefined) throw new HttpError(404, 'No such example');
  sendJson(response, 200, JSON.parse(text) as unknown);
}

async function listExamples(response: ServerResponse, dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  sendJson(response, 200, names.filter((name) => name.endsWith('.json')).sort());
}

async function readObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(request, SMALL_BODY_BYTES);
  return isRecord(body) ? body : {};
}
