import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseWorkflowText } from '../comfy/read-json.js';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { defaultStateDir } from '../jobs/journal.js';
import { readWorkflowMetadata, isVideoPath } from '../sharing/provenance.js';
import { confine, safeFileName, storeStaged, type FileRoots } from './files.js';
import { discard, receiveForm, stagingPath } from './multipart.js';
import { HttpError, isRecord, readBody, readJson, sendJson } from './http-util.js';
import { MAX_UPLOAD_BYTES } from './upload.js';

/**
 * The smaller routes ComfyUI clients call, answering in ComfyUI's shapes (docs/comfyui.md "Subgraphs…" §5):
 * settings and user data kept in our state folder, no models (a video runner loads none), an empty log,
 * /free accepted, /view_metadata from our MP4 metadata and /upload/mask as ComfyUI composes it.
 */

const SMALL_BODY_BYTES = 1024 * 1024;
const USERDATA_FILE_BYTES = 10 * 1024 * 1024;

/** The single local user's folder (ComfyUI: user/default). */
export function userDir(env: NodeJS.ProcessEnv): string {
  return join(defaultStateDir(env), 'user');
}

function settingsPath(env: NodeJS.ProcessEnv): string {
  return join(userDir(env), 'comfy.settings.json');
}

async function readSettings(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const text = await readFile(settingsPath(env), 'utf8').catch(() => '{}');
  try {
    const value = JSON.parse(text) as unknown;
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

async function writeAtomically(path: string, text: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

export async function settingsRoute(request: IncomingMessage, response: ServerResponse, id: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const settings = await readSettings(env);
  if (request.method === 'GET') return sendJson(response, 200, id === undefined ? settings : (Object.hasOwn(settings, id) ? settings[id] : null));
  const body = await readJson(request, SMALL_BODY_BYTES);
  if (id === undefined) {
    if (!isRecord(body)) throw new HttpError(400, 'Settings must be a JSON object');
    Object.assign(settings, body);
  } else {
    settings[id] = body;
  }
  await writeAtomically(settingsPath(env), JSON.stringify(settings, null, 2));
  sendJson(response, 200, {});
}

/** Plain-text answers, as ComfyUI's userdata routes give them. */
function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end(text);
}

/** GET /userdata?dir=…[&recurse=true][&full_info=true][&split=true] */
export async function listUserdata(response: ServerResponse, url: URL, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = url.searchParams.get('dir');
  if (!dir) return sendText(response, 400, 'Directory not provided');
  await mkdir(userDir(env), { recursive: true });
  const base = await confine(userDir(env), dir);
  if (base === undefined) {
    const inside = !relative(userDir(env), join(userDir(env), dir)).startsWith('..');
    return sendText(response, inside ? 404 : 403, inside ? 'Directory not found' : 'Invalid directory');
  }
  const recurse = url.searchParams.get('recurse') === 'true';
  const files: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (recurse) await walk(path);
      } else if (entry.isFile()) files.push(relative(base, path).split(sep).join('/'));
    }
  };
  await walk(base).catch(() => undefined);
  files.sort();
  if (url.searchParams.get('full_info') === 'true') {
    const infos = await Promise.all(files.map(async (path) => {
      const info = await stat(join(base, path));
      return { path, size: info.size, modified: Math.round(info.mtimeMs), created: Math.round(info.birthtimeMs) };
    }));
    return sendJson(response, 200, infos);
  }
  if (url.searchParams.get('split') === 'true') {
    return sendJson(response, 200, files.map((path) => [path, ...path.split('/')]));
  }
  sendJson(response, 200, files);
}

/** GET/POST/DELETE /userdata/{file} (the name URL-encoded, "%2F" for folders). */
export async function userdataFile(request: IncomingMessage, response: ServerResponse, file: string, env: NodeJS.ProcessEnv): Promise<void> {
  const root = userDir(env);
  await mkdir(root, { recursive: true });
  const parts = file.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..') || parts.some((part) => safeFileName(part) !== part)) {
    return sendText(response, 400, 'Invalid file name');
  }
  const path = join(root, ...parts);
  if (request.method === 'GET') {
    const real = await confine(root, ...parts);
    if (!real) return sendText(response, 404, 'File not found');
    const bytes = await readFile(real);
    response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Disposition': 'attachment', 'X-Content-Type-Options': 'nosniff' });
    return void response.end(bytes);
  }
  if (request.method === 'DELETE') {
    const real = await confine(root, ...parts);
    if (!real) return sendText(response, 404, 'File not found');
    await rm(real);
    return void response.writeHead(204).end();
  }
  const overwrite = new URL(request.url ?? '/', 'http://x').searchParams.get('overwrite') !== 'false';
  if (!overwrite && (await stat(path).catch(() => undefined))) return sendText(response, 409, 'File already exists');
  const folder = await (async () => {
    await mkdir(dirname(path), { recursive: true });
    return confine(root, ...parts.slice(0, -1));
  })();
  if (folder === undefined) return sendText(response, 403, 'Invalid directory');
  await writeAtomically(join(folder, parts.at(-1)!), await readBody(request, USERDATA_FILE_BYTES));
  sendJson(response, 200, parts.join('/'));
}

/** GET /view_metadata/{folder}?filename=…: our MP4's embedded workflow and prompt, as JSON strings; 404 otherwise. */
export async function viewMetadata(response: ServerResponse, folder: string, url: URL, roots: FileRoots): Promise<void> {
  const filename = url.searchParams.get('filename') ?? '';
  const root = folder === 'input' || folder === 'output' || folder === 'temp' ? roots[folder] : undefined;
  const path = root && isVideoPath(filename) ? await confine(root, ...filename.split('/')) : undefined;
  const meta = path ? await readWorkflowMetadata(path).catch(() => undefined) : undefined;
  const entries = Object.entries(meta ?? {}).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return sendJson(response, 404, { error: 'No metadata' });
  sendJson(response, 200, Object.fromEntries(entries.map(([key, value]) => [key, JSON.stringify(value)])));
}

/**
 * POST /upload/mask: multipart `image` (the mask), `original_ref` (JSON `{filename, subfolder?, type?}`); the mask's
 * alpha replaces the original's, and the result is stored like an upload (de-duplicated names, `overwrite`).
 */
export async function postUploadMask(request: IncomingMessage, response: ServerResponse, roots: FileRoots): Promise<void> {
  // The mask streams to a staging file like any upload (never held whole in memory).
  const { fields, file: mask } = await receiveForm(request, { fileField: 'image', maxFileBytes: MAX_UPLOAD_BYTES, stagingDir: roots.input });
  let composedPath: string | undefined;
  try {
    const name = safeFileName(mask.name);
    if (!name) throw new HttpError(400, 'The image has no usable file name');
    let ref: Record<string, unknown>;
    try {
      const parsed = parseWorkflowText(fields.original_ref ?? '');
      if (!isRecord(parsed) || typeof parsed.filename !== 'string') throw new Error('no filename');
      ref = parsed;
    } catch {
      throw new HttpError(400, 'original_ref must be JSON {"filename", "subfolder"?, "type"?}');
    }
    const refType = String(ref.type ?? 'input');
    if (refType !== 'input' && refType !== 'output' && refType !== 'temp') throw new HttpError(400, 'original_ref.type must be input, output or temp');
    const original = await confine(roots[refType], String(ref.subfolder ?? ''), ref.filename as string);
    if (!original) throw new HttpError(404, 'The original image was not found');
    const composed = await composeMask(original, mask.path);
    const type = fields.type ?? 'input';
    if (type !== 'input' && type !== 'temp' && type !== 'output') throw new HttpError(400, 'type must be input, output or temp');
    const subfolder = fields.subfolder ?? '';
    composedPath = await stagingPath(roots.input);
    await writeFile(composedPath, composed, { flag: 'wx', mode: 0o600 });
    const staged = { path: composedPath, sha256: createHash('sha256').update(composed).digest('hex') };
    const stored = await storeStaged(roots[type], subfolder, name, staged, fields.overwrite === 'true');
    if (!stored) throw new HttpError(403, 'subfolder not allowed');
    sendJson(response, 200, { name: stored, subfolder, type });
  } finally {
    await discard(mask.path);
    if (composedPath) await discard(composedPath);
  }
}

/** The original's colours with the mask's alpha (resized to fit), as PNG. */
async function composeMask(originalPath: string, maskPath: string): Promise<Uint8Array> {
  try {
    const original = sharp(originalPath, { limitInputPixels: 8000 * 8000 });
    const { width, height } = await original.metadata();
    const alpha = await sharp(maskPath, { limitInputPixels: 8000 * 8000 })
      .ensureAlpha().resize(width, height, { fit: 'fill' }).extractChannel('alpha').raw().toBuffer();
    // sharp orders its operations itself: take the colours out first, then join the alpha to them.
    const rgb = await original.removeAlpha().raw().toBuffer();
    return await sharp(rgb, { raw: { width: width!, height: height!, channels: 3 } })
      .joinChannel(alpha, { raw: { width: width!, height: height!, channels: 1 } }).png().toBuffer();
  } catch {
    throw new HttpError(400, 'The image or the mask could not be read');
  }
}
