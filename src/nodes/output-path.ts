import { link, mkdir, readdir, realpath, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InputError } from '../engine/errors.js';
import { mkdirInside } from './paths.js';

/**
 * Where SaveVideo writes: ComfyUI's `{prefix}_{counter:05}_.{ext}` naming, with the
 * prefix's subfolder confined to the output folder.
 */

export interface OutputTarget {
  /** Absolute folder, created and confined (after resolving symlinks). */
  dir: string;
  /** Subfolder relative to the output folder, '/'-separated ('' for the top). */
  subfolder: string;
  /** File name stem, e.g. "video" from "reelgraph/video". */
  base: string;
}

/** Longest file name stem: leaves room for "_00001_.mp4" (and the partial download's prefix) within the usual 255-byte limit. */
export const MAX_PREFIX_NAME_BYTES = 200;
/** Longest whole prefix, subfolders included. */
export const MAX_PREFIX_BYTES = 1024;

/**
 * Why a filename_prefix cannot be used, or undefined: checked at validation (before anything
 * is paid for) and again when the file is written.
 */
export function prefixProblem(prefix: string): string | undefined {
  const normalized = prefix.replace(/\\/g, '/');
  const segments = normalized.split('/');
  if (normalized.startsWith('/') || /^[a-zA-Z]:/.test(normalized) || segments.includes('..')) {
    return 'must stay inside the output folder (no absolute paths or ".." segments)';
  }
  if (/[\u0000-\u001f\u007f]/.test(prefix)) return 'must not contain control characters';
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) return `must be at most ${MAX_PREFIX_BYTES} bytes long`;
  const base = segments.at(-1) ?? '';
  if (base === '' || base === '.') return 'must end with a file name';
  if (segments.some((segment) => Buffer.byteLength(segment) > MAX_PREFIX_NAME_BYTES)) return `must have names of at most ${MAX_PREFIX_NAME_BYTES} bytes between slashes`;
  return undefined;
}

/**
 * Splits and confines a filename_prefix such as "reelgraph/video".
 * @throws InputError for absolute prefixes, `..` segments or symlinks leading outside the output folder.
 */
export async function resolveOutputTarget(outputDir: string, prefix: string): Promise<OutputTarget> {
  const problem = prefixProblem(prefix);
  if (problem) throw new InputError(`filename_prefix ${JSON.stringify(prefix)} ${problem}`);
  const segments = prefix.replace(/\\/g, '/').split('/');
  const base = segments.pop() ?? '';
  const subfolder = posix.normalize(segments.filter((s) => s !== '' && s !== '.').join('/') || '.');
  await mkdir(outputDir, { recursive: true });
  const root = await realpath(outputDir);
  const dir = join(root, subfolder);
  if ((await mkdirInside(root, subfolder)) === undefined) {
    throw new InputError(`filename_prefix ${JSON.stringify(prefix)} resolves (through a symlink) outside the output folder`);
  }
  return { dir, subfolder: subfolder === '.' ? '' : subfolder, base };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** ComfyUI's rule: one more than the highest counter already used by this prefix in the folder. */
export async function nextCounter(dir: string, base: string): Promise<number> {
  const pattern = new RegExp(`^${escapeRegExp(base)}_(\\d+)_\\.`);
  let highest = 0;
  for (const name of await readdir(dir)) {
    const match = pattern.exec(name);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return highest + 1;
}

/**
 * Moves the finished temp file to the next free `{base}_{counter:05}_.{ext}`.
 * link() refuses to overwrite, so two SaveVideo nodes finishing at once never clobber each other.
 */
export async function claimOutputName(temp: string, target: OutputTarget, ext: string): Promise<string> {
  for (let counter = await nextCounter(target.dir, target.base); ; counter++) {
    const filename = `${target.base}_${String(counter).padStart(5, '0')}_.${ext}`;
    try {
      await link(temp, join(target.dir, filename));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await unlink(temp);
    return filename;
  }
}
