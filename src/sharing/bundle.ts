import { mkdir, mkdtemp, open, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { RuntimeError } from '../engine/errors.js';
import { scrubSecrets } from './provenance.js';
import { extractEntry, readZipDirectory, ZipFormatError, type ZipEntry } from './zip-read.js';

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
  maxDirectoryBytes: 4 * 1024 * 1024,
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
  const file = await open(zipPath, 'r');
  let folder: string | undefined;
  try {
    const entries = await readZipDirectory(file, size, BUNDLE_LIMITS);
    checkEntries(entries, zipPath);
    if (!entries.some((entry) => entry.name === BUNDLE_WORKFLOW)) throw new BundleError(`Bundle "${zipPath}" has no ${BUNDLE_WORKFLOW} at its top level.`);
    folder = await mkdtemp(join(tmpdir(), 'reelgraph-bundle-'));
    // Exactly the entries checked above, nothing an extractor might find besides them.
    for (const entry of entries) {
      const target = join(folder, ...entry.name.split('/'));
      if (entry.isDirectory) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      await extractEntry(file, zipPath, entry, target);
    }
  } catch (error) {
    if (folder) await rm(folder, { recursive: true, force: true });
    if (error instanceof ZipFormatError) throw new BundleError(`Bundle "${zipPath}" ${error.message}; refusing to open it.`, { cause: error });
    throw error;
  } finally {
    await file.close();
  }
  const opened = folder;
  return { workflowPath: join(opened, BUNDLE_WORKFLOW), folder: opened, cleanup: () => rm(opened, { recursive: true, force: true }) };
}

/** True for a file name that looks like a bundle. */
export function isBundlePath(path: string): boolean {
  return path.toLowerCase().endsWith('.zip');
}

function checkEntries(entries: ZipEntry[], zipPath: string): void {
  if (entries.length > BUNDLE_LIMITS.maxEntries) throw new BundleError(`Bundle "${zipPath}" has ${entries.length} entries, more than the limit of ${BUNDLE_LIMITS.maxEntries}.`);
  let total = 0;
  // Names compared as a case-insensitive file system would see them, so two entries never land on one file.
  const seen = new Set<string>();
  const folders = new Set<string>();
  for (const entry of entries) {
    const problem = unsafeName(entry.name.replace(/\/$/, '')) ?? (entry.isSymlink ? 'is a symbolic link' : undefined);
    if (problem) throw new BundleError(`Bundle "${zipPath}" entry "${entry.name}" ${problem}; refusing to open it.`);
    const key = entry.name.replace(/\/$/, '').normalize('NFC').toLowerCase();
    if (seen.has(key)) throw new BundleError(`Bundle "${zipPath}" entry "${entry.name}" appears twice; refusing to open it.`);
    seen.add(key);
    const parts = key.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
    total += entry.size;
    if (entry.size > BUNDLE_LIMITS.maxEntryBytes) throw new BundleError(`Bundle "${zipPath}" entry "${entry.name}" is larger than the ${mib(BUNDLE_LIMITS.maxEntryBytes)} limit.`);
  }
  for (const entry of entries) {
    const key = entry.name.normalize('NFC').toLowerCase();
    if (!entry.isDirectory && folders.has(key)) throw new BundleError(`Bundle "${zipPath}" entry "${entry.name}" is both a file and a folder; refusing to open it.`);
  }
  if (total > BUNDLE_LIMITS.maxTotalBytes) throw new BundleError(`Bundle "${zipPath}" expands beyond the ${mib(BUNDLE_LIMITS.maxTotalBytes)} limit.`);
}

/** Why an entry or image name may not be used inside a bundle, or undefined when it is a plain relative path. */
function unsafeName(name: string): string | undefined {
  if (name.length === 0 || name.includes('\0')) return 'has an empty or invalid name';
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-z]:/i.test(name)) return 'is an absolute path';
  if (name.includes('\\')) return 'uses backslashes';
  if (name.split('/').includes('..')) return 'climbs out of the bundle with ".."';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'has control characters in its name';
  if (name.split('/').some((part) => part === '' || part === '.')) return 'has an empty or "." path segment';
  return undefined;
}

function bundlePathFor(use: ImageUse): string {
  const clean = use.name.replaceAll('\\', '/').replace(/^(\.\/)+/, '');
  const problem = isAbsolute(use.name) ? 'is an absolute path' : unsafeName(clean);
  if (problem) throw new BundleError(`Node "${use.nodeId}" (LoadImage) image "${use.name}" ${problem}; bundles take images from the workflow's folder only.`);
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
