import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkflowParseError } from '../../../src/engine/errors.js';
import { MAX_WORKFLOW_BYTES, parseWorkflowText, readWorkflowFile } from '../../../src/comfy/read-json.js';

describe('parseWorkflowText', () => {
  it('accepts NaN, Infinity and -Infinity outside strings and leaves them alone inside strings', () => {
    const value = parseWorkflowText('{"a":NaN,"b":[Infinity,-Infinity,-1.5],"s":"NaN Infinity \\" NaN","t":"-Infinity"}') as Record<string, unknown>;
    expect(value.a).toBeNaN();
    expect(value.b).toEqual([Infinity, -Infinity, -1.5]);
    expect(value.s).toBe('NaN Infinity " NaN');
    expect(value.t).toBe('-Infinity');
  });

  it('keeps UTF-8 text and strips a byte order mark', () => {
    expect(parseWorkflowText('\uFEFF{"image":"été 写真.png"}')).toEqual({ image: 'été 写真.png' });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a "%s" key without polluting any prototype', (key) => {
    expect(() => parseWorkflowText(`{"nodes":[{"${key}":{"polluted":true}}]}`)).toThrow(new RegExp(`"${key}" key`));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names the innermost refused key first, as a JSON.parse reviver meets them', () => {
    expect(() => parseWorkflowText('{"constructor":{"a":[1,{"__proto__":{}}]}}')).toThrow(/"__proto__" key/);
    expect(() => parseWorkflowText('{"ok":{"prototype":1},"constructor":2}')).toThrow(/"prototype" key/);
  });

  it('turns NaN back into a number at any depth and at the top', () => {
    expect(parseWorkflowText('NaN')).toBeNaN();
    expect(parseWorkflowText('[[{"x":[-Infinity]}]]')).toEqual([[{ x: [-Infinity] }]]);
  });

  it('refuses nesting deeper than 200 levels', () => {
    const deep = `${'['.repeat(201)}${']'.repeat(201)}`;
    expect(() => parseWorkflowText(deep)).toThrow(/nests deeper than 200 levels/);
    expect(parseWorkflowText(`${'['.repeat(200)}${']'.repeat(200)}`)).toBeDefined();
  });

  it('says where malformed JSON breaks, in one sentence', () => {
    let error: unknown;
    try {
      parseWorkflowText('{\n  "a": 1,\n}');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkflowParseError);
    expect((error as WorkflowParseError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(/^The workflow is not valid JSON: .* at line 3, column 1\.$/);
  });
});

describe('readWorkflowFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelgraph-load-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a workflow file with NaN', async () => {
    const path = join(dir, 'w.json');
    await writeFile(path, '{"nodes":[],"links":[],"extra":{"ds":{"scale":NaN}},"version":0.4}');
    expect(await readWorkflowFile(path)).toMatchObject({ nodes: [], version: 0.4 });
  });

  it('refuses invalid UTF-8', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    await expect(readWorkflowFile(path)).rejects.toThrow(/is not valid UTF-8 text/);
  });

  it('refuses a file over 64 MB without reading it', async () => {
    const path = join(dir, 'big.json');
    await writeFile(path, '');
    await truncate(path, MAX_WORKFLOW_BYTES + 1);
    await expect(readWorkflowFile(path)).rejects.toThrow(/over the limit of 67108864 bytes \(64 MB\)/);
  });

  it('names a missing file or a folder given as a file', async () => {
    await expect(readWorkflowFile(join(dir, 'nope.json'))).rejects.toThrow(/nope\.json" cannot be read \(ENOENT\)/);
    await expect(readWorkflowFile(dir)).rejects.toThrow(/cannot be read \(EISDIR\)/);
  });

  it('prefixes parse errors with the file name', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"a":');
    await expect(readWorkflowFile(path)).rejects.toThrow(/broken\.json": The workflow is not valid JSON/);
  });
});
