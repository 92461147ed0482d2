import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fastPoll, listFiles, mp4Duration, placeWorkflow, readExample, runCli, startCli, useCliSandbox, type Sandbox } from '../../helpers/cli-sandbox.js';

/**
 * `reelgraph batch` through the built CLI against the emulator: one video per row, a manifest,
 * and a SIGKILLed batch that a re-run finishes without a single duplicate create.
 */

const ROWS = 25;
/** Jobs long enough that a kill lands while rows are at the provider. */
const setup = useCliSandbox({ timing: { queuedMs: 300, runningMs: 1_200 } });

/** `count` distinct real JPEGs (distinct content: each row is its own job). */
async function imageFolder(box: Sandbox, count: number): Promise<string> {
  const dir = join(box.work, 'catalogue');
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const background = { r: (i * 37) % 256, g: (i * 91) % 256, b: 200 - i };
    await sharp({ create: { width: 640, height: 360, channels: 3, background } }).jpeg().toFile(join(dir, `item-${String(i).padStart(3, '0')}.jpg`));
  }
  return dir;
}

async function manifestRows(box: Sandbox): Promise<{ row: string; status: string; video?: string; jobId?: string; cost?: number }[]> {
  const text = await readFile(join(box.output, 'batch.jsonl'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line));
}

const mp4s = async (box: Sandbox) => (await listFiles(box.output)).filter((path) => path.endsWith('.mp4'));
const isRowEnd = (line: string) => line.startsWith('{"type":"row_end"');

describe('reelgraph batch', () => {
  it('makes one MP4 per image of a folder, writes the manifest, and a kill -9 then re-run creates nothing twice', async () => {
    const box = setup.box;
    const workflow = await placeWorkflow(box, 'workflow.json', fastPoll(await readExample('runway-gen4-turbo.json'), 0.1));
    const inputs = await imageFolder(box, ROWS);
    const args = ['batch', workflow, '--inputs', inputs, '--output-dir', box.output, '--json'];

    const first = startCli(args, box);
    // Halfway: some rows saved, others at the provider.
    let ended = 0;
    await first.waitForLine((line) => isRowEnd(line) && ++ended >= Math.floor(ROWS / 2));
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const createsBeforeRerun = setup.emulator.creates();
    expect(createsBeforeRerun).toBeGreaterThan(0);

    const second = await runCli(args, box);
    expect(second.code, second.stderr).toBe(0);
    expect(setup.emulator.creates()).toBe(ROWS);
    expect(setup.emulator.log.filter((entry) => entry.kind === 'cancel')).toHaveLength(0);

    const videos = await mp4s(box);
    expect(videos).toHaveLength(ROWS);
    for (const video of videos.slice(0, 3)) expect(await mp4Duration(video)).toBeGreaterThan(4);
    const manifest = await manifestRows(box);
    expect(manifest).toHaveLength(ROWS);
    expect(manifest.every((row) => row.status === 'done' && row.video && videos.includes(row.video) && row.jobId)).toBe(true);
    expect(new Set(manifest.map((row) => row.jobId)).size).toBe(ROWS);
    const csv = (await readFile(join(box.output, 'batch.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('row,index,inputs,status,reason,video,jobId,provider,cost,seconds');
    expect(csv).toHaveLength(ROWS + 1);
  });

  it('sets widgets from CSV columns by node id and title, keeps identical rows apart, and a bad row fails alone', async () => {
    const box = setup.box;
    const titled = fastPoll(await readExample('runway-gen4-turbo.json'), 0.1);
    for (const node of titled.nodes) if (node.type === 'RunwayI2V') node.title = 'Prompt';
    const workflow = await placeWorkflow(box, 'workflow.json', titled);
    await imageFolder(box, 2);
    const csv = [
      'id,image,3.seed,Prompt.promptText',
      'a,catalogue/item-000.jpg,1,a red chair',
      'b,catalogue/item-000.jpg,1,a red chair',
      'c,catalogue/item-001.jpg,99999999999,too big a seed',
      'd,catalogue/missing.jpg,2,no such file',
    ].join('\n');
    await writeFile(join(box.work, 'rows.csv'), csv);
    const result = await runCli(['batch', workflow, '--inputs', join(box.work, 'rows.csv'), '--output-dir', box.output, '--json'], box);
    expect(result.code, result.stderr).toBe(1);
    const manifest = await manifestRows(box);
    expect(manifest.map((row) => [row.row, row.status])).toEqual([
      ['a', 'done'],
      ['b', 'done'],
      ['c', 'invalid'],
      ['d', 'invalid'],
    ]);
    // Two rows asking the very same thing are two jobs (each row has its own job key) or one cached job, never a refusal.
    expect(setup.emulator.creates()).toBeLessThanOrEqual(2);
    const bodies = setup.emulator.jobs().map((job) => job.request);
    expect(bodies.every((request) => request.seed === 1 && request.promptText === 'a red chair')).toBe(true);
    expect(await mp4s(box)).toHaveLength(2);
    // Without --max-cost the first rows start while later ones are still checked; the estimate follows the last check.
    const types = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line).type as string);
    expect(types[0]).toBe('batch_start');
    expect(types.indexOf('row_start')).toBeLessThan(types.indexOf('batch_estimate'));
    const estimate = JSON.parse(result.stdout.split('\n').find((line) => line.includes('"batch_estimate"'))!).data;
    expect(estimate).toMatchObject({ rows: 4, invalid: 2 });
  });

  it('with --max-cost every row is checked and priced before the first starts', async () => {
    const box = setup.box;
    const workflow = await placeWorkflow(box, 'workflow.json', fastPoll(await readExample('runway-gen4-turbo.json'), 0.1));
    const inputs = await imageFolder(box, 3);
    const result = await runCli(['batch', workflow, '--inputs', inputs, '--output-dir', box.output, '--json', '--max-cost', '100', '--parallel', '1'], box);
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
    expect(events[0]).toMatchObject({ type: 'batch_start', data: { rows: 3, invalid: 0, jobs: 3 } });
    expect(events.filter((event) => event.type === 'row_end')).toHaveLength(3);
  });

  it('--dry-run prints rows, jobs and the total; --max-cost refuses above the limit with nothing submitted', async () => {
    const box = setup.box;
    const workflow = await placeWorkflow(box, 'workflow.json', await readExample('runway-gen4-turbo.json'));
    const inputs = await imageFolder(box, 4);
    const dry = await runCli(['batch', workflow, '--inputs', inputs, '--dry-run'], box);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('item-003.jpg');
    expect(dry.stdout).toMatch(/Rows: 4 \(0 invalid\)\. Provider jobs that would be created: 4\. Estimated total: \$\d+\.\d\d/);
    const refused = await runCli(['batch', workflow, '--inputs', inputs, '--max-cost', '0.10'], box);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/4 provider jobs estimated at \$[\d.]+, above --max-cost \$0\.10; nothing was submitted/);
    expect(setup.emulator.creates()).toBe(0);
  });
});
