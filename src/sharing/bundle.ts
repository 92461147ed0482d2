import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { RuntimeError } from '../engine/errors.js';
import { scrubSecrets } from './provenance.js';

/**
 * Portable bundles: a zip holding `workflow.json` and every local image its LoadImage
 * nodes use under `images/…`, so a workflow runs on another machine as it is.
 * Opening a bundle is treated as opening untrusted input: no absolute paths, no `..`,
 * no symlinks, and caps on entry count and sizes (zip bombs).
 */

export const BUNDLE_WORKFLOW = 'workflow.json';
export const BUNDLE_LIMITS = {
  maxEntries: 1000,
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxZipBytes: 1024 * 1024 * 1024,
};

/** The bundle is unsafe or malformed, or the workflow cannot be packed. Exit 2. */
export class BundleError extends RuntimeError {
  override name = 'BundleError';
  override exitCode = 2;
}

export interface OpenedBundle {
  workflowPath: string;
  folder: string;
  cleanup(): Promise<void>;
}

interface ImageUse {
  nodeId: string;
  /** The path as the workflow wrote it. */
  name: string;
  set(value: string): void;
}

/** Writes `outZip` with the workflow (secrets scrubbed) and its local images under relative paths. @throws BundleError */
export async function packWorkflow(workflowPath: string, outZip: string): Promise<{ images: string[] }> {
  const folder = dirname(resolve(workflowPath));
  const json = JSON.parse(await readFile(workflowPath, 'utf8')) as unknown;
  const files: Zippable = {};
  const images: string[] = [];
  for (const use of imageUses(json)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(use.name)) continue; // URLs travel as they are.
    const entry = bundlePathFor(use);
    const source = await confinedSource(folder, use);
    if (!files[entry]) {
      files[entry] = new Uint8Array(await readFile(source));
      images.push(entry);
    }
    use.set(entry);
  }
  files[BUNDLE_WORKFLOW] = new TextEncoder().encode(`${JSON.stringify(scrubSecrets(json), null, 1)}\n`);
  await writeFile(outZip, zipSync(files, { level: 6 }));
  return { images };
}

/** Extracts a bundle into a fresh temp folder. @throws BundleError for unsafe entries or caps exceeded */
export async function openBundle(zipPath: string): Promise<OpenedBundle> {
  const size = (await stat(zipPath)).size;
  if (size > BUNDLE_LIMITS.maxZipBytes) throw new BundleError(`Bundle "${zipPath}" is larger than the ${mib(BUNDLE_LIMITS.maxZipBytes)} limit.`);
  const data = new Uint8Array(await readFile(zipPath));
  const entries = centralDirectory(data, zipPath);
  checkEntries(entries, zipPath);
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(data);
  } catch (error) {
    throw new BundleError(`Bundle "${zipPath}" is not a readable zip file (${(error as Error).message}).`, { cause: error });
  }
  const folder = await mkdtemp(join(tmpdir(), 'reelgraph-bundle-'));
  const cleanup = () => rm(folder, { recursive: true, force: true });
  try {
    await extract(files, folder, zipPath);
    const workflowPath = join(folder, BUNDLE_WORKFLOW);
    if (!files[BUNDLE_WORKFLOW]) throw new BundleError(`Bundle "${zipPath}" has no ${BUNDLE_WORKFLOW} at its top level.`);
    return { workflowPath, folder, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** True for a file name that looks like a bundle. */
export function isBundlePath(path: string): boolean {
  return path.toLowerCase().endsWith('.zip');
}

async function extract(files: Record<string, Uint8Array>, folder: string, zipPath: string): Promise<void> {
  let total = 0;
  for (const [name, bytes] of Object.entries(files)) {
    // Declared sizes were checked already; the inflated sizes are what really lands on disk.
    total += bytes.length;
    if (bytes.length > BUNDLE_LIMITS.maxEntryBytes || total > BUNDLE_LIMITS.maxTotalBytes) {
      throw new BundleError(`Bundle "${zipPath}" expands beyond the ${mib(BUNDLE_LIMITS.maxTotalBytes)} limit.`);
    }
    if (name.endsWith('/')) continue;
    const target = resolve(folder, name);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes, { flag: 'wx' });
  }
}

interface ZipEntry {
  name: string;
  originalSize: number;
  isSymlink: boolean;
}

/** The zip's central directory, read directly: fflate does not expose the Unix mode that marks symlinks. */
function centralDirectory(data: Uint8Array, zipPath: string): ZipEntry[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new BundleError(`Bundle "${zipPath}" is not a zip file.`);
  const count = view.getUint16(eocd + 10, true);
  const entries: ZipEntry[] = [];
  for (let offset = view.getUint32(eocd + 16, true), i = 0; i < count; i++) {
    if (offset + 46 > data.length || view.getUint32(offset, true) !== 0x02014b50) throw new BundleError(`Bundle "${zipPath}" has a damaged zip directory.`);
    const madeByUnix = view.getUint8(offset + 5) === 3;
    const mode = view.getUint32(offset + 38, true) >>> 16;
    const nameLength = view.getUint16(offset + 28, true);
    const name = new TextDecoder().decode(data.subarray(offset + 46, offset + 46 + nameLength));
    entries.push({ name, originalSize: view.getUint32(offset + 24, true), isSymlink: madeByUnix && (mode & 0o170000) === 0o120000 });
    offset += 46 + nameLength + view.getUint16(offset + 30, true) + view.getUint16(offset + 32, true);
  }
  return entries;
}

function checkEntries(entries: ZipEntry[], zipPath: string): void {
  if (entries.length > BUNDLE_LIMITS.maxEntries) throw new BundleError(`Bundle "${zipPath}" has ${entries.length} entries, more than the limit of ${BUNDLE_LIMITS.maxEntries}.`);
  let total = 0;
  for (const entry of entries) {
    const problem = unsafeName(entry.name) ?? (entry.isSymlink ? 'is a symbolic link' : undefined);
    if (problem) throw new BundleError(`Bundle "${zipPath}" entry "${entry.name}" ${problem}; refusing to open it.`);
    total += entry.originalSize;
    if (entry.originalSize > BUNDLE_LIMITS.maxEntryBytes) throw new BundleError(`Bundle "${zipPath}" entry "${entry.name}" is larger than the ${mib(BUNDLE_LIMITS.maxEntryBytes)} limit.`);
  }
  if (total > BUNDLE_LIMITS.maxTotalBytes) throw new BundleError(`Bundle "${zipPath}" expands beyond the ${mib(BUNDLE_LIMITS.maxTotalBytes)} limit.`);
}

/** Why an entry or image name may not be used inside a bundle, or undefined when it is a plain relative path. */
function unsafeName(name: string): string | undefined {
  if (name.length === 0 || name.includes('\0')) return 'has an empty or invalid name';
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-z]:/i.test(name)) return 'is an absolute path';
  if (name.includes('\\')) return 'uses backslashes';
  if (name.split('/').includes('..')) return 'climbs out of the bundle with ".."';
  return undefined;
}

function bundlePathFor(use: ImageUse): string {
  const problem = isAbsolute(use.name) ? 'is an absolute path' : unsafeName(use.name.replaceAll('\\', '/'));
  if (problem) throw new BundleError(`Node "${use.nodeId}" (LoadImage) image "${use.name}" ${problem}; bundles take images from the workflow's folder only.`);
  const clean = use.name.replaceAll('\\', '/').replace(/^(\.\/)+/, '');
  return clean.startsWith('images/') ? clean : `images/${clean}`;
}

async function confinedSource(folder: string, use: ImageUse): Promise<string> {
  const where = `Node "${use.nodeId}" (LoadImage) image "${use.name}"`;
  let real: string;
  try {
    real = await realpath(resolve(folder, use.name));
  } catch {
    throw new BundleError(`${where} does not exist next to the workflow.`);
  }
  const inside = relative(await realpath(folder), real);
  if (inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) throw new BundleError(`${where} resolves outside the workflow's folder.`);
  return real;
}

/** Every LoadImage image value, in a UI workflow (widgets_values[0]) or an API prompt (inputs.image). */
export function imageUses(json: unknown): ImageUse[] {
  if (typeof json !== 'object' || json === null) return [];
  const nodes = (json as { nodes?: unknown }).nodes;
  if (Array.isArray(nodes)) {
    return nodes.flatMap((node: { id?: unknown; type?: unknown; widgets_values?: unknown }): ImageUse[] => {
      const widgets = node.widgets_values;
      if (node.type !== 'LoadImage' || !Array.isArray(widgets) || typeof widgets[0] !== 'string') return [];
      return [{ nodeId: String(node.id), name: widgets[0], set: (value) => (widgets[0] = value) }];
    });
  }
  return Object.entries(json as Record<string, { class_type?: unknown; inputs?: Record<string, unknown> }>).flatMap(([id, node]): ImageUse[] => {
    const inputs = node?.inputs;
    if (node?.class_type !== 'LoadImage' || !inputs || typeof inputs.image !== 'string') return [];
    return [{ nodeId: id, name: inputs.image, set: (value) => (inputs.image = value) }];
  });
}

function mib(bytes: number): string {
  return `${bytes / (1024 * 1024)} MiB`;
}
