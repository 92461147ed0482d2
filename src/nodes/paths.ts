import { mkdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Confining workflow-supplied names to a folder. Checks run on the name as written
 * and again after symlinks are resolved (ComfyUI#12285: a containment check made
 * before resolving symlinks lets a link point anywhere).
 */

export type Confined = { ok: true; path: string } | { ok: false; rule: string };

/** Whether the value is a remote image rather than a file name. */
export function isRemoteUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/** A reason the name as written is refused, or undefined. `..` is refused as a segment only, so `a..png` is fine. */
export function checkRelativeName(name: string): string | undefined {
  if (name.trim() === '') return 'must not be empty';
  if (isAbsolute(name) || /^[a-zA-Z]:[\\/]/.test(name) || name.startsWith('\\')) {
    return 'must be relative to the input folder (absolute paths are refused)';
  }
  if (name.split(/[\\/]/).includes('..')) return 'must not contain ".." segments';
  if (name.includes('\0')) return 'must not contain NUL characters';
  return undefined;
}

/** Whether `child` (already resolved) is `root` or inside it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Resolves an existing file under `root`, following symlinks before the containment check. */
export async function confineExisting(root: string, name: string): Promise<Confined> {
  const refused = checkRelativeName(name);
  if (refused) return { ok: false, rule: refused };
  let realRoot: string;
  let realFile: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return { ok: false, rule: `input folder ${root} does not exist` };
  }
  try {
    realFile = await realpath(resolve(realRoot, name));
  } catch {
    return { ok: false, rule: `file does not exist in the input folder ${realRoot}` };
  }
  if (!isInside(realRoot, realFile)) return { ok: false, rule: 'resolves (through a symlink) outside the input folder' };
  return { ok: true, path: realFile };
}

/**
 * Creates `rel` under `root` one folder at a time, checking each existing step (after resolving
 * symlinks) before going further, so a symlinked subfolder can never make us create folders
 * elsewhere. Returns the real path of the folder, or undefined when a step leads outside.
 */
export async function mkdirInside(root: string, rel: string): Promise<string | undefined> {
  const realRoot = await realpath(root);
  let current = realRoot;
  for (const segment of rel.split(/[\\/]/).filter((s) => s !== '' && s !== '.')) {
    if (segment === '..') return undefined;
    const next = join(current, segment);
    try {
      await mkdir(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    current = await realpath(next);
    if (!isInside(realRoot, current)) return undefined;
  }
  return current;
}

/** Whether every folder of `rel` that already exists under `root` resolves inside it (creates nothing; for validation). */
export async function existingStepsInside(root: string, rel: string): Promise<boolean> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return true; // Nothing exists yet, so nothing can lead outside.
  }
  let current = realRoot;
  for (const segment of rel.split(/[\\/]/).filter((s) => s !== '' && s !== '.')) {
    try {
      current = await realpath(join(current, segment));
    } catch {
      return true;
    }
    if (!isInside(realRoot, current)) return false;
  }
  return true;
}
