import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-util.js';

/**
 * GET /reelgraph/input-images: the images in the input folder (and one level of subfolders,
 * where the examples keep theirs), as LoadImage names ("images/sunset.jpg"), for the editor's
 * image list. Symlinks are not followed; the list is bounded.
 */

const IMAGE = /\.(png|jpe?g|webp)$/i;
const MAX_FILES = 1000;

export async function listInputImages(response: ServerResponse, inputDir: string): Promise<void> {
  const names: string[] = [];
  const top = await readdir(inputDir, { withFileTypes: true }).catch(() => []);
  for (const entry of top) {
    if (entry.isFile() && IMAGE.test(entry.name)) names.push(entry.name);
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const inner = await readdir(join(inputDir, entry.name), { withFileTypes: true }).catch(() => []);
    for (const file of inner) if (file.isFile() && IMAGE.test(file.name)) names.push(`${entry.name}/${file.name}`);
    if (names.length >= MAX_FILES) break;
  }
  sendJson(response, 200, names.slice(0, MAX_FILES).sort());
}
