import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Values } from './define-node.js';
import { RuntimeError } from './errors.js';

/**
 * Node outputs on disk, one JSON file per cache key. A finished paid generation is
 * written the moment its node finishes, so a crash or Ctrl-C later never costs it again.
 */
export class OutputCache {
  constructor(readonly dir: string) {}

  /** The stored outputs, or undefined when absent or unreadable (a miss, never an error). */
  async get(key: string): Promise<Values | undefined> {
    let text: string;
    try {
      text = await readFile(this.#pathOf(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as { key?: unknown; outputs?: unknown };
      if (entry.key !== key || typeof entry.outputs !== 'object' || entry.outputs === null) return undefined;
      return entry.outputs as Values;
    } catch {
      return undefined;
    }
  }

  /**
   * Write to a temp file, then rename: readers see the old entry or the whole new one. `durable`
   * (the default) fsyncs the file and its folder first, so the entry survives a power cut: wanted
   * for a paid node's outputs, not for what is cheap to compute again (a lost entry is a miss).
   */
  async set(key: string, outputs: Values, { durable = true }: { durable?: boolean } = {}): Promise<void> {
    const path = this.#pathOf(key);
    const folder = join(this.dir, key.slice(0, 2));
    await mkdir(folder, { recursive: true });
    const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ key, outputs }));
        if (durable) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    if (durable) await syncFolder(folder);
  }

  #pathOf(key: string): string {
    // Keys are sha256 hex; anything else could step outside the folder.
    if (!/^[0-9a-f]{64}$/.test(key)) throw new RuntimeError(`Cache key "${key.slice(0, 80)}" is not a sha256 hex digest.`);
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }
}

/** Makes the rename durable; some platforms cannot open folders, which is fine to skip. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort only.
  }
}

/** $REELGRAPH_CACHE_DIR, else $XDG_CACHE_HOME/reelgraph, else ~/.cache/reelgraph. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REELGRAPH_CACHE_DIR) return env.REELGRAPH_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'reelgraph');
  return join(homedir(), '.cache', 'reelgraph');
}
