import type { IncomingMessage, ServerResponse } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROVIDERS } from '../providers/catalog.js';
import { serveView, type FileRoots } from './files.js';
import { HttpError, isRecord, readJson, sendJson } from './http-util.js';
import { postEstimate } from './estimate-route.js';
import { postImport } from './import-route.js';
import { postSubmitAgain } from './submit-again-route.js';
import { postPrompt, type PromptRouteContext } from './prompt-route.js';
import { postUpload } from './upload.js';
import { listUserdata, postUploadMask, settingsRoute, userdataFile, viewMetadata } from './comfy-routes.js';
import { getJob, listJobs } from './jobs-route.js';
import { comfyRunwayObjectInfo } from '../sharing/comfy-runway-import.js';
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
  'GET /prompt': async (_request, response, _url, ctx) => sendJson(response, 200, { exec_info: { queue_remaining: await ctx.queue.remaining() } }),
  'GET /queue': async (_request, response, _url, ctx) => sendJson(response, 200, await ctx.queue.snapshot()),
  'POST /queue': async (request, response, _url, ctx) => {
    const body = await readObject(request);
    if (body.clear === true) await ctx.queue.clear();
    if (Array.isArray(body.delete)) await ctx.queue.delete(body.delete.map(String));
    sendJson(response, 200, {});
  },
  'POST /interrupt': async (request, response, _url, ctx) => {
    const body = await readObject(request);
    await ctx.queue.interrupt(typeof body.prompt_id === 'string' ? body.prompt_id : undefined);
    sendJson(response, 200, {});
  },
  'GET /history': async (_request, response, url, ctx) => {
    const max = url.searchParams.get('max_items');
    sendJson(response, 200, await ctx.queue.historyView(max === null ? undefined : Number.parseInt(max, 10)));
  },
  'POST /history': async (request, response, _url, ctx) => {
    const body = await readObject(request);
    if (body.clear === true) await ctx.queue.clearHistory();
    if (Array.isArray(body.delete)) await ctx.queue.deleteHistory(body.delete.map(String));
    sendJson(response, 200, {});
  },
  'GET /object_info': async (_request, response, _url, ctx) => sendJson(response, 200, await currentObjectInfo(ctx)),
  'POST /free': async (request, response) => {
    // Accepted and ignored: a video runner holds no models to unload.
    await readObject(request);
    response.writeHead(200).end();
  },
  'POST /upload/mask': (request, response, _url, ctx) => postUploadMask(request, response, ctx.roots),
  'GET /users': (_request, response) => sendJson(response, 200, { storage: 'server', migrated: true }),
  'GET /settings': (request, response, _url, ctx) => settingsRoute(request, response, undefined, ctx.env),
  'POST /settings': (request, response, _url, ctx) => settingsRoute(request, response, undefined, ctx.env),
  'GET /userdata': (_request, response, url, ctx) => listUserdata(response, url, ctx.env),
  'GET /models': (_request, response) => sendJson(response, 200, []),
  'GET /experiment/models': (_request, response) => sendJson(response, 200, []),
  'GET /view': (request, response, url, ctx) => serveView(request, response, url, ctx.roots),
  'HEAD /view': (request, response, url, ctx) => serveView(request, response, url, ctx.roots),
  'POST /upload/image': (request, response, _url, ctx) => postUpload(request, response, ctx.roots),
  'GET /system_stats': (_request, response) =>
    sendJson(response, 200, { system: { os: process.platform, python_version: 'n/a', embedded_python: false, comfyui_version: 'reelgraph' }, devices: [] }),
  'GET /features': (_request, response) => sendJson(response, 200, {}),
  'GET /extensions': (_request, response) => sendJson(response, 200, []),
  'GET /embeddings': (_request, response) => sendJson(response, 200, []),
  'POST /reelgraph/estimate': (request, response, _url, ctx) => postEstimate(request, response, ctx),
  'POST /reelgraph/jobs/submit-again': (request, response, _url, ctx) => postSubmitAgain(request, response, ctx),
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
  if (method === 'GET' && (await onlyOnePrefixRoute(response, url, ctx))) return true;
  const param2 = /^\/(settings|userdata|view_metadata|models|experiment\/models)\/(.+)$/.exec(path);
  if (param2) {
    await paramRoute2(request, response, url, param2[1]!, decodeParam(param2[2]!), ctx);
    return true;
  }
  const direct = Object.hasOwn(routes, `${method} ${path}`) ? routes[`${method} ${path}`] : undefined;
  if (direct) {
    await direct(request, response, url, ctx);
    return true;
  }
  const param = /^\/(object_info|history|reelgraph\/examples)\/(.+)$/.exec(path);
  if (param && method === 'GET') {
    await paramRoute(param[1]!, decodeParam(param[2]!), response, ctx);
    return true;
  }
  if (Object.keys(routes).some((key) => key.endsWith(` ${path}`))) throw new HttpError(405, `${method} is not allowed on ${path}`);
  return false;
}

/** A malformed escape such as `%ZZ` is the client's mistake: 400, not a thrown URIError (500). */
function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, 'Malformed percent-encoding in the path');
  }
}

async function paramRoute(kind: string, value: string, response: ServerResponse, ctx: ApiContext): Promise<void> {
  if (kind === 'history') return sendJson(response, 200, await ctx.queue.historyOf(value));
  if (kind === 'object_info') {
    const all = await currentObjectInfo(ctx);
    const info = Object.hasOwn(all, value) ? all[value] : undefined;
    return sendJson(response, 200, info ? { [value]: info } : {});
  }
  // One example workflow, by its plain file name only.
  if (!/^[\w.-]+\.json$/.test(value)) throw new HttpError(404, 'No such example');
  const text = await readFile(join(ctx.examplesDir, value), 'utf8').catch(() => undefined);
  if (text === undefined) throw new HttpError(404, 'No such example');
  sendJson(response, 200, JSON.parse(text) as unknown);
}

/** /api/jobs exists only under /api, and /internal/* only without it, as in ComfyUI. */
async function onlyOnePrefixRoute(response: ServerResponse, url: URL, ctx: ApiContext): Promise<boolean> {
  const path = url.pathname;
  if (path === '/api/jobs') return await listJobs(response, url, ctx.queue), true;
  const job = /^\/api\/jobs\/([^/]+)$/.exec(path);
  if (job) return await getJob(response, decodeURIComponent(job[1]!), ctx.queue), true;
  // ComfyUI's log is for its own console; ours goes to stderr, so the list is empty.
  if (path === '/internal/logs') return sendJson(response, 200, ''), true;
  if (path === '/internal/logs/raw') return sendJson(response, 200, { entries: [], size: { cols: 80, rows: 24 } }), true;
  return false;
}

async function paramRoute2(request: IncomingMessage, response: ServerResponse, url: URL, kind: string, value: string, ctx: ApiContext): Promise<void> {
  const method = request.method ?? 'GET';
  if (kind === 'settings' && (method === 'GET' || method === 'POST')) return settingsRoute(request, response, value, ctx.env);
  if (kind === 'userdata' && ['GET', 'POST', 'DELETE'].includes(method)) return userdataFile(request, response, value, ctx.env);
  if (kind === 'view_metadata' && method === 'GET') return viewMetadata(response, value, url, ctx.roots);
  if ((kind === 'models' || kind === 'experiment/models') && method === 'GET') return sendJson(response, 404, { error: `No model folder "${value}"` });
  throw new HttpError(405, `${method} is not allowed on /${kind}/…`);
}

/** object_info as ComfyUI clients expect it: LoadImage lists the input folder's images; ComfyUI's Runway nodes are listed as aliases. */
async function currentObjectInfo(ctx: ApiContext): Promise<Record<string, unknown>> {
  const info: Record<string, unknown> = { ...ctx.objectInfo, ...comfyRunwayObjectInfo() };
  const loadImage = ctx.objectInfo.LoadImage as { input: { required: Record<string, unknown> } } | undefined;
  if (loadImage) {
    const files = await inputImages(ctx.roots.input);
    const [, options] = (loadImage.input.required.image ?? ['STRING', {}]) as [unknown, Record<string, unknown>];
    info.LoadImage = { ...loadImage, input: { ...loadImage.input, required: { ...loadImage.input.required, image: [files, { ...options, image_upload: true }] } } };
  }
  return info;
}

const IMAGE_FILE = /\.(png|jpe?g|webp|gif)$/i;

/** The input folder's images, relative paths with "/", sorted (ComfyUI lists its input folder the same way). */
async function inputImages(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && IMAGE_FILE.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1).split('\\').join('/'))
    .sort();
}

async function listExamples(response: ServerResponse, dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  sendJson(response, 200, names.filter((name) => name.endsWith('.json')).sort());
}

async function readObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(request, SMALL_BODY_BYTES);
  return isRecord(body) ? body : {};
}
