import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryFile, KEPT } from '../../../src/server/history-file.js';
import type { HistoryEntry } from '../../../src/server/queue.js';

function entry(number: number): HistoryEntry {
  return {
    prompt: [number, `p${number}`, {}, {}, []],
    outputs: { '5': { videos: [{ filename: `clip_${number}.mp4`, subfolder: 'demo', type: 'output' }] } },
    status: { status_str: 'success', completed: true, messages: [] },
    meta: {},
  };
}

describe('HistoryFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelgraph-history-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives back what it saved, newest KEPT entries only, in order', async () => {
    const file = new HistoryFile(join(dir, 'state'));
    const entries = Array.from({ length: KEPT + 5 }, (_, index): [string, HistoryEntry] => [`p${index}`, entry(index)]);
    void file.save(entries.slice(0, 3));
    await file.save(entries);
    const loaded = await new HistoryFile(join(dir, 'state')).load();
    expect(loaded).toHaveLength(KEPT);
    expect(loaded[0]![0]).toBe('p5');
    expect(loaded.at(-1)).toEqual(entries.at(-1));
  });

  it('starts empty when the file is missing, unreadable or of another version', async () => {
    const file = new HistoryFile(dir);
    expect(await file.load()).toEqual([]);
    await writeFile(file.path, '{ not json');
    expect(await file.load()).toEqual([]);
    await writeFile(file.path, JSON.stringify({ version: 99, entries: [['p1', entry(1)]] }));
    expect(await file.load()).toEqual([]);
    await file.save([['p1', entry(1)]]);
    expect((JSON.parse(await readFile(file.path, 'utf8')) as { version: number }).version).toBe(1);
  });
});
