import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputCache, defaultCacheDir } from '../../../src/engine/cache.js';
import { cacheKey, canonicalJson } from '../../../src/engine/cache-key.js';

const KEY = 'a'.repeat(64);

describe('OutputCache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelgraph-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores outputs that a second instance on the same folder reads back', async () => {
    await new OutputCache(dir).set(KEY, { TASK: { taskId: 't1', provider: 'runway' } });
    expect(await new OutputCache(dir).get(KEY)).toEqual({ TASK: { taskId: 't1', provider: 'runway' } });
    expect(await new OutputCache(dir).get('b'.repeat(64))).toBeUndefined();
  });

  it('leaves no temp files behind and overwrites an entry whole', async () => {
    const cache = new OutputCache(dir);
    await cache.set(KEY, { v: 1 });
    await cache.set(KEY, { v: 2 });
    expect(await readdir(join(dir, 'aa'))).toEqual([`${KEY}.json`]);
    expect(await cache.get(KEY)).toEqual({ v: 2 });
  });

  it('treats a torn or foreign entry as a miss', async () => {
    const cache = new OutputCache(dir);
    await cache.set(KEY, { v: 1 });
    await writeFile(join(dir, 'aa', `${KEY}.json`), '{"key":"aaaa');
    expect(await cache.get(KEY)).toBeUndefined();
    await writeFile(join(dir, 'aa', `${KEY}.json`), JSON.stringify({ key: 'other', outputs: { v: 1 } }));
    expect(await cache.get(KEY)).toBeUndefined();
  });

  it('refuses keys that are not sha256 hex, so no key can leave the folder', async () => {
    await expect(new OutputCache(dir).set('../../etc/passwd', {})).rejects.toThrow(/is not a sha256 hex digest/);
  });
});

describe('defaultCacheDir', () => {
  it('prefers REELGRAPH_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(defaultCacheDir({ REELGRAPH_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'reelgraph'));
    expect(defaultCacheDir({})).toBe(join(homedir(), '.cache', 'reelgraph'));
  });
});

describe('cache keys', () => {
  const parts = { type: 'RunwayI2V', version: 1, params: { seed: 1, ratio: '960:960' }, fingerprint: null, inputs: { image: { key: 'k1', slot: 0 } } };

  it('sorts keys at every level and spells out non-finite numbers', () => {
    expect(canonicalJson({ b: 1, a: { d: [NaN, Infinity], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":["$number:NaN","$number:Infinity"]},"b":1}');
  });

  it('depends on content, not on key order', () => {
    expect(cacheKey(parts)).toBe(cacheKey({ ...parts, params: { ratio: '960:960', seed: 1 } }));
    expect(cacheKey(parts)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['type', { type: 'Poll' }],
    ['version', { version: 2 }],
    ['a param', { params: { seed: 2, ratio: '960:960' } }],
    ['the fingerprint', { fingerprint: 'sha-of-file' }],
    ['an ancestor key', { inputs: { image: { key: 'k2', slot: 0 } } }],
    ['the ancestor slot', { inputs: { image: { key: 'k1', slot: 1 } } }],
  ])('changes with %s', (_what, change) => {
    expect(cacheKey({ ...parts, ...change })).not.toBe(cacheKey(parts));
  });
});
