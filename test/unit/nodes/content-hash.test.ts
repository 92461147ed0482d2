import { createHash } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File, sha256InputFile } from '../../../src/nodes/content-hash.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sha256InputFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelgraph-hash-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the content hash, again and again, and a new one as soon as the file is edited or replaced', async () => {
    const path = join(dir, 'photo.jpg');
    await writeFile(path, 'first');
    expect(await sha256InputFile(path)).toBe(sha('first'));
    expect(await sha256InputFile(path)).toBe(await sha256File(path));
    // Same size, written in place: the change time moves.
    await writeFile(path, 'fir5t');
    expect(await sha256InputFile(path)).toBe(sha('fir5t'));
    // Another file moved over it: another inode.
    await writeFile(join(dir, 'other'), 'other');
    await rename(join(dir, 'other'), path);
    expect(await sha256InputFile(path)).toBe(sha('other'));
  });
});
