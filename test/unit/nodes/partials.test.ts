import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { partialPath, removeStalePartials } from '../../../src/nodes/partials.js';

let dir: string;
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('half-written downloads', () => {
  it('are named with the writing process and removed once that process is gone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'partials-'));
    const ours = partialPath(dir, 'clip_00001_');
    const orphan = join(dir, `.clip_00002_.${deadPid()}-0badc0de.partial`);
    const output = join(dir, 'clip_00001_.mp4');
    await Promise.all([ours, orphan, output].map((path) => writeFile(path, 'x')));

    expect(await removeStalePartials(dir)).toEqual([`.clip_00002_.${orphan.split('.clip_00002_.')[1]}`]);
    expect((await readdir(dir)).sort()).toEqual([ours.split('/').at(-1), 'clip_00001_.mp4'].sort());
  });

  it('leave a folder without partials untouched, and a missing folder is fine', async () => {
    dir = await mkdtemp(join(tmpdir(), 'partials-'));
    await writeFile(join(dir, 'a.mp4'), 'x');
    expect(await removeStalePartials(dir)).toEqual([]);
    expect(await removeStalePartials(join(dir, 'missing'))).toEqual([]);
    expect(await readdir(dir)).toEqual(['a.mp4']);
  });
});
