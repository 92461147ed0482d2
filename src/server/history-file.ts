import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HistoryEntry } from './queue.js';

/**
 * The prompt history on disk (`history.json` in the state folder), so the editor's history
 * panel and its videos survive a server restart. Writes go one at a time, each to a temporary
 * file renamed over the old one, so a crash leaves the previous history, never half of one.
 * Only the newest KEPT entries are written (each carries its workflow).
 */

export const KEPT = 200;
const VERSION = 1;

export class HistoryFile {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    this.path = join(stateDir, 'history.json');
  }

  /** The saved entries, oldest first; none when the file is missing or unreadable. */
  async load(): Promise<[string, HistoryEntry][]> {
    try {
      const data = JSON.parse(await readFile(this.path, 'utf8')) as { version?: number; entries?: unknown };
      if (data.version !== VERSION || !Array.isArray(data.entries)) return [];
      return data.entries.filter((item): item is [string, HistoryEntry] => Array.isArray(item) && typeof item[0] === 'string' && isEntry(item[1]));
    } catch {
      return [];
    }
  }

  /** Queues a write of the newest KEPT entries; resolves once it is on disk. */
  save(entries: [string, HistoryEntry][]): Promise<void> {
    const text = JSON.stringify({ version: VERSION, entries: entries.slice(-KEPT) });
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, this.path);
    }).catch(() => undefined);
    return this.writing;
  }

  /** Resolves once every queued write is done (the server awaits it on close). */
  flushed(): Promise<void> {
    return this.writing;
  }
}

function isEntry(value: unknown): value is HistoryEntry {
  const entry = value as HistoryEntry | undefined;
  return typeof entry === 'object' && entry !== null && Array.isArray(entry.prompt) && typeof entry.outputs === 'object' && typeof entry.status === 'object';
}
