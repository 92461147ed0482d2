import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, skipReason } from '../helpers/browser.js';
import { startServe, type ServeProcess } from './serve-cli.js';

/**
 * Issue 10, point 9: the editor asks before a run whose estimate is above the threshold the user set (kept in
 * this browser), showing the estimate; Cancel creates nothing, Run and pay runs. Without an estimate it asks too.
 */

if (!chromiumAvailable) console.warn(skipReason);

describe.skipIf(!chromiumAvailable)('editor: asking before spending (serve --emulator)', () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let root: string;
  let emulatorUrl: string;

  /** Provider jobs created so far, as the emulator logged them. */
  async function creates(): Promise<number> {
    const { log } = (await (await fetch(`${emulatorUrl}/_emulator/log`)).json()) as { log: { kind: string }[] };
    return log.filter((entry) => entry.kind === 'create').length;
  }

  async function dialogLines(): Promise<string[]> {
    return page.$$eval('#spend-dialog p', (lines) => lines.map((line) => line.textContent ?? ''));
  }

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-spend-'));
    await mkdir(artifactsDir, { recursive: true });
    serve = await startServe(['--emulator'], { REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') }, root);
    emulatorUrl = /built-in emulator at (http:\/\/\S+?)\s/.exec(serve.stderr())![1]!;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(serve.url);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('offers a labelled threshold with a $1.00 default, kept across reloads', async () => {
    const input = page.getByLabel('Ask before running above this many US dollars');
    expect(await input.inputValue()).toBe('1.00');
    await input.fill('0.01');
    await input.press('Tab');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.getByLabel('Ask before running above this many US dollars').inputValue()).toBe('0.01');
  });

  it('above the threshold, Run shows the estimate; Cancel creates nothing; Run and pay runs', async () => {
    const prompt = await page.evaluate(() => (window as unknown as { reelgraph: { toApi(): unknown } }).reelgraph.toApi());
    const estimate = (await (await fetch(`${serve.url.replace(/\/$/, '')}/api/reelgraph/estimate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt }) })).json()) as {
      totalUsd: number;
      jobs: unknown[];
      totals: { provider: string; jobs: number; usd: number }[];
    };
    expect(estimate.totalUsd).toBeGreaterThan(0.01);

    await page.click('#run');
    const dialog = page.getByRole('dialog', { name: 'This run costs money' });
    await dialog.waitFor();
    const lines = await dialogLines();
    expect(lines[0]).toBe(`Estimated total: $${estimate.totalUsd.toFixed(2)} for ${estimate.jobs.length} paid ${estimate.jobs.length === 1 ? 'job' : 'jobs'}.`);
    for (const total of estimate.totals) expect(lines.some((line) => line.startsWith(`${total.provider}: ${total.jobs} job`) && line.includes(`$${total.usd.toFixed(2)}`))).toBe(true);
    expect(lines).toContain('Your limit for running without asking is $0.01.');
    await page.screenshot({ path: join(artifactsDir, 'e2e-spend-dialog.png') });

    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.textContent('#status')).toBe('Not run: cancelled before spending anything');
    const queue = (await (await fetch(`${serve.url.replace(/\/$/, '')}/api/queue`)).json()) as { queue_running: unknown[]; queue_pending: unknown[] };
    const history = (await (await fetch(`${serve.url.replace(/\/$/, '')}/api/history`)).json()) as Record<string, unknown>;
    expect({ running: queue.queue_running.length, pending: queue.queue_pending.length, history: Object.keys(history).length, creates: await creates() }).toEqual({ running: 0, pending: 0, history: 0, creates: 0 });

    await page.click('#run');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Run and pay' }).click();
    await page.waitForFunction(() => ['Done', 'Failed'].some((word) => document.querySelector('#status')?.textContent?.startsWith(word)), undefined, { timeout: 60_000 });
    expect(await page.textContent('#status')).toBe('Done');
    expect(await creates()).toBe(estimate.jobs.length);
  });

  it('asks when the estimate is unavailable, and says so; Escape cancels', async () => {
    const before = await creates();
    await page.route('**/api/reelgraph/estimate', (route) => route.fulfill({ status: 503, body: 'busy' }));
    await page.click('#run');
    const dialog = page.getByRole('dialog', { name: 'The cost of this run is unknown' });
    await dialog.waitFor();
    expect((await dialogLines())[0]).toBe('The cost could not be estimated: the server answered 503.');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.unroute('**/api/reelgraph/estimate');
    expect(await creates()).toBe(before);
  });
});
