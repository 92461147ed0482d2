import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRows } from '../../../src/batch/rows.js';
import { bindRow, resolveColumns, rowFileName } from '../../../src/batch/bind.js';
import { writeManifest } from '../../../src/batch/manifest.js';
import { parseUserWorkflow } from '../../../src/app/parse.js';
import { createNodeRegistry } from '../../../src/nodes/index.js';
import { jobKeyFor } from '../../../src/jobs/journal.js';

const EXAMPLE = join(import.meta.dirname, '../../../examples/runway-gen4-turbo.json');

async function example() {
  const registry = createNodeRegistry();
  return { registry, parsed: parseUserWorkflow(JSON.parse(await readFile(EXAMPLE, 'utf8')), registry) };
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rg-batch-'));
}

describe('batch rows', () => {
  it('a folder gives one row per image, in name order, ids are the file names', async () => {
    const dir = await tempDir();
    for (const name of ['b.png', 'a.jpg', 'notes.txt']) await writeFile(join(dir, name), 'x');
    const rows = await readRows(dir);
    expect(rows.map((row) => [row.id, row.values.image])).toEqual([
      ['a.jpg', 'a.jpg'],
      ['b.png', 'b.png'],
    ]);
  });

  it('CSV and JSONL rows: the id column or row-N, empty cells left out, duplicate ids refused', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'r.csv'), 'image,3.seed\na.jpg,1\nb.jpg,\n');
    expect((await readRows(join(dir, 'r.csv'))).map((row) => [row.id, row.values])).toEqual([
      ['row-1', { image: 'a.jpg', '3.seed': '1' }],
      ['row-2', { image: 'b.jpg' }],
    ]);
    await writeFile(join(dir, 'r.jsonl'), '{"id":"x","3.seed":7}\n\n{"id":"x"}\n');
    await expect(readRows(join(dir, 'r.jsonl'))).rejects.toThrow('id "x" is used twice');
    await writeFile(join(dir, 'r.jsonl'), '{"id":"x","3.seed":{"a":1}}\n');
    await expect(readRows(join(dir, 'r.jsonl'))).rejects.toThrow('column "3.seed" must be a string, number or boolean');
  });
});

describe('binding a row', () => {
  it('sets widgets by node id and title, coerces CSV strings, and names the SaveVideo file after the row', async () => {
    const { registry, parsed } = await example();
    parsed.graph.nodes.get('3')!.title = 'Prompt';
    const row = { id: 'shoe 7.jpg', index: 1, inputDir: '/in', values: { image: 'shoe.jpg', '3.seed': '4243', 'Prompt.promptText': 'a shoe' } };
    const bound = bindRow(parsed, registry, row, resolveColumns(parsed, registry, [row]));
    expect(bound.graph.nodes.get('1')!.params.image).toBe('shoe.jpg');
    expect(bound.graph.nodes.get('3')!.params).toMatchObject({ seed: 4243, promptText: 'a shoe' });
    expect(bound.graph.nodes.get('5')!.params.filename_prefix).toMatch(/_shoe_7$/);
    expect(bound.api['3']!.inputs.seed).toBe(4243);
    // The original is untouched: rows never leak into each other.
    expect(parsed.graph.nodes.get('3')!.params.seed).not.toBe(4243);
  });

  it('refuses unknown columns before anything runs, naming the column', async () => {
    const { registry, parsed } = await example();
    const rows = (values: Record<string, string>) => [{ id: 'r', index: 1, inputDir: '/in', values }];
    expect(() => resolveColumns(parsed, registry, rows({ '9.seed': '1' }))).toThrow('column "9.seed": the workflow has no node with id or title "9"');
    expect(() => resolveColumns(parsed, registry, rows({ '3.colour': 'red' }))).toThrow('node 3 (RunwayI2V) has no widget "colour"');
    expect(() => resolveColumns(parsed, registry, rows({ seed: '1' }))).toThrow('must be "image", "id", or "<node id or title>.<param>"');
  });

  it('row file names are safe', () => {
    expect(rowFileName('../../etc/passwd')).toBe('etc_passwd');
    expect(rowFileName('a/b c.png')).toBe('a_b_c');
  });
});

describe('row identity in job keys', () => {
  it('two rows asking the same thing get different keys; no row keeps the old key', () => {
    const identity = { provider: 'runway', baseUrl: 'u', imageId: 'h', nodeId: '3', workflowPath: '/w.json', request: { model: 'gen4_turbo', promptImage: 'x', ratio: '1280:720', duration: 5 } } as const;
    const plain = jobKeyFor(identity);
    expect(jobKeyFor({ ...identity, row: 'a' })).not.toBe(jobKeyFor({ ...identity, row: 'b' }));
    expect(jobKeyFor({ ...identity, row: 'a' })).not.toBe(plain);
    expect(jobKeyFor(identity)).toBe(plain);
  });
});

describe('manifest', () => {
  it('writes JSONL and CSV in row order, quoting and defusing spreadsheet formulas', async () => {
    const dir = join(await tempDir(), 'out');
    await mkdir(dir);
    await writeManifest(dir, [
      { row: 'b', index: 2, inputs: '=cmd()', status: 'failed', reason: 'said "no", twice', seconds: 1 },
      { row: 'a', index: 1, inputs: 'image=a.jpg', status: 'done', video: '/o/a.mp4', jobId: 't1', provider: 'runway', cost: 0.25, seconds: 2 },
    ]);
    const csv = (await readFile(join(dir, 'batch.csv'), 'utf8')).trim().split('\n');
    expect(csv[1]).toBe('a,1,image=a.jpg,done,,/o/a.mp4,t1,runway,0.25,2');
    expect(csv[2]).toBe(`b,2,'=cmd(),failed,"said ""no"", twice",,,,,1`);
    const jsonl = (await readFile(join(dir, 'batch.jsonl'), 'utf8')).trim().split('\n');
    expect(JSON.parse(jsonl[0]!).row).toBe('a');
  });
});
