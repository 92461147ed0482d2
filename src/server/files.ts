import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { mkdirInside } from '../nodes/paths.js';
import { copyFile, link, lstat, mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, extname, join, sep } from 'node:path';
import { parseByteRange } from '../http/range.js';
import { sendJson } from './http-util.js';

/**
 * /view and /upload/image. Paths are confined after resolving symlinks (ComfyUI checked
 * before resolving them, so a symlink could escape: Comfy-Org/ComfyUI#12285), and files
 * that a browser would run as active content are only ever downloaded (CVE-2026-56670).
 */

export interface FileRoots {
  input: string;
  output: string;
  temp: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Types a browser could execute or render with script; never shown inline. */
const ACTIVE_EXTENSIONS = new Set(['.html', '.htm', '.svg', '.svgz', '.js', '.mjs', '.xml', '.xhtml', '.xsl']);

/** Resolves a file inside a root, following symlinks first; undefined if it escapes or is missing. */
export async function confine(root: string, ...parts: string[]): Promise<string | undefined> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(join(realRoot, ...parts));
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

/** Strips folders and characters that do not belong in a file name; undefined if nothing usable is left. */
export function safeFileName(name: string): string | undefined {
  const base = basename(name.replaceAll('\\', '/')).replace(/[\u0000-\u001f<>:"|?*]/g, '_').trim();
  if (base === '' || base === '.' || base === '..' || base.startsWith('.')) return undefined;
  return base.slice(0, 200);
}

/** Subfolders are plain relative names; ".." or absolute paths are refused before touching the disk. */
function safeSubfolder(subfolder: string): boolean {
  if (subfolder === '') return true;
  return !subfolder.split(/[\\/]/).some((part) => part === '..' || part === '') && !subfolder.startsWith('/');
}

export async function serveView(request: IncomingMessage, response: ServerResponse, url: URL, roots: FileRoots): Promise<void> {
  const annotated = /^(.*) \[(input|output|temp)\]$/.exec(url.searchParams.get('filename') ?? '');
  const filename = annotated ? annotated[1]! : (url.searchParams.get('filename') ?? '');
  const type = annotated ? annotated[2]! : (url.searchParams.get('type') ?? 'output');
  const subfolder = url.searchParams.get('subfolder') ?? '';
  if (type !== 'input' && type !== 'output' && type !== 'temp') return sendJson(response, 400, { error: 'type must be input, output or temp' });
  if (!filename || !safeSubfolder(subfolder) || filename.includes('/') || filename.includes('\\')) {
    return sendJson(response, 403, { error: 'path not allowed' });
  }
  const path = await confine(roots[type], subfolder, filename);
  if (!path) return sendJson(response, 404, { error: 'file not found' });
  const info = await stat(path);
  if (!info.isFile()) return sendJson(response, 404, { error: 'file not found' });
  sendFile(request, response, path, info.size);
}

/** Streams a file with Range support (video seeking needs it). */
export function sendFile(request: IncomingMessage, response: ServerResponse, path: string, size: number): void {
  const ext = extname(path).toLowerCase();
  const active = ACTIVE_EXTENSIONS.has(ext);
  const headers: Record<string, string | number> = {
    'Content-Type': active ? 'application/octet-stream' : (CONTENT_TYPES[ext] ?? 'application/octet-stream'),
    'X-Content-Type-Options': 'nosniff',
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-cache',
  };
  if (active) headers['Content-Disposition'] = `attachment; filename="${encodeURIComponent(basename(path))}"`;
  const range = parseByteRange(request.headers.range, size);
  // A malformed header gets 416 like an unsatisfiable one, so a broken client learns of it.
  if (range === 'malformed' || range === 'unsatisfiable') {
    response.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
    return;
  }
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['Content-Length'] = range.end - range.start + 1;
    response.writeHead(206, headers);
  } else {
    headers['Content-Length'] = size;
    response.writeHead(200, headers);
  }
  if (request.method === 'HEAD') return void response.end();
  createReadStream(path, range ?? {}).pipe(response);
}

export interface StoredUpload {
  name: string;
  subfolder: string;
  type: 'input' | 'output' | 'temp';
}

/**
 * Stores an upload like ComfyUI does: the same content under the same name is reused,
 * a different content gets `name (1).png`, `name (2).png`, … unless overwrite is asked.
 * The upload arrives as a staging file (see multipart.ts) that is moved into place whole, never
 * written through a planted symlink, and never clobbering a file another upload just placed.
 * The staging file is gone afterwards whatever happens.
 */
export async function storeStaged(root: string, subfolder: string, fileName: string, staged: { path: string; sha256: string }, overwrite: boolean): Promise<string | undefined> {
  let source = staged.path;
  try {
    if (!safeSubfolder(subfolder)) return undefined;
    // Containment is checked at every step before the next folder is created (a symlinked subfolder must not create /etc/x).
    await mkdir(root, { recursive: true });
    const folder = await mkdirInside(root, subfolder);
    if (!folder) return undefined;
    source = await sameFilesystem(staged.path, folder);
    const ext = extname(fileName);
    const stem = fileName.slice(0, fileName.length - ext.length);
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const candidate = attempt === 0 ? fileName : `${stem} (${attempt})${ext}`;
      const path = join(folder, candidate);
      // A planted symlink must never be written through (nor replaced: it is someone's).
      const existing = await lstat(path).catch(() => undefined);
      if (existing?.isSymbolicLink()) continue;
      if (existing && overwrite) {
        // rename replaces the name itself, atomically: readers see the old file or the new one.
        await rename(source, path);
        return candidate;
      }
      if (existing) {
        if (existing.isFile() && (await sha256OfFile(path)) === staged.sha256) return candidate;
        continue;
      }
      if (await placeExclusively(source, path)) return candidate;
      // Another upload took the name a moment ago: the same content is reused, as above.
      const racer = await lstat(path).catch(() => undefined);
      if (racer?.isFile() && (await sha256OfFile(path)) === staged.sha256) return candidate;
    }
    return undefined;
  } finally {
    // After a successful move these names are gone already.
    await Promise.all([rm(staged.path, { force: true }), rm(source, { force: true })]);
  }
}

/** The staging file moved next to `folder` when it lives on another filesystem (rename cannot cross one). */
async function sameFilesystem(staging: string, folder: string): Promise<string> {
  const [file, target] = await Promise.all([stat(staging), stat(folder)]);
  if (file.dev === target.dev) return staging;
  const moved = join(folder, basename(staging));
  await copyFile(staging, moved, fsConstants.COPYFILE_EXCL);
  await rm(staging, { force: true });
  return moved;
}

/** Gives `source` the name `path` unless something took that name first; false then. */
async function placeExclusively(source: string, path: string): Promise<boolean> {
  try {
    // link fails on an existing name, so two uploads racing for "photo.png" cannot overwrite each other.
    await link(source, path);
    await rm(source, { force: true });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // Filesystems without hard links: a plain rename (the name was free a moment ago).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
      await rename(source, path);
      return true;
    }
    throw error;
  }
}

function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
