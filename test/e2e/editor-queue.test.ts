import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, skipReason } from '../helpers/browser.js';
import { chooseInCombo, type EditorWindow } from '../helpers/editor-actions.js';
import { watchPage } from './page-watch.js';
import { startServe, type ServeProcess } from './serve-cli.js';

/** Issue 13, point 4: the queue and history panel, across a reload and a server restart. */

if (!chromiumAvailable) console.warn(skipReason);

interface Item {
  state: string;
  videos: number;
  playable: number;
}

function items(page: Page): Promise<Item[]> {
  return page.$$eval('#queue-panel .queue-item', (elements) =>
    elements.map((element) => {
      const videos = [...element.querySelectorAll('video')] as HTMLVideoElement[];
      return { state: (element as HTMLElement).dataset.state ?? '', videos: videos.length, playable: videos.filter((video) => video.readyState >= 1 && video.duration > 0).length };
    }),
  );
}

describe.skipIf(!chromiumAvailable)('editor: queue and history panel', () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let root: string;
  let env: Record<string, string>;
  let watch: { problems: string[] };

  const openPage = async (): Promise<void> => {
    await page.goto(serve.url);
    await page.waitForSelector('body[data-ready="true"]');
  };
  const openPanel = async (): Promise<void> => {
    if (await page.isHidden('#queue-panel')) await page.click('#queue');
    await page.waitForSelector('#queue-panel', { state: 'visible' });
  };

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-queue-'));
    await mkdir(artifactsDir, { recursive: true });
    env = { REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    serve = await startServe(['--emulator'], env, root);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    watch = watchPage(page);
    await openPage();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('queues three runs, cancels the waiting third, and shows both videos when they finish', async () => {
    const runway = await page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.find((node) => (node as unknown as { type: string }).type === 'RunwayI2V')!.id);
    // A new seed for each run, so none comes from the cache.
    await chooseInCombo(page, runway, 'control_after_generate', 'increment');
    await openPanel();
    for (let run = 0; run < 3; run++) {
      await page.click('#run');
      await expect.poll(async () => (await items(page)).length).toBe(run + 1);
    }
    await expect.poll(async () => (await items(page)).map((item) => item.state)).toEqual(['running', 'pending', 'pending']);
    await page.screenshot({ path: join(artifactsDir, 'e2e-queue-pending.png') });
    await page.locator('#queue-panel .queue-item[data-state="pending"] button', { hasText: 'Cancel' }).last().click();
    await expect.poll(async () => (await items(page)).length).toBe(2);
    await expect.poll(async () => (await items(page)).map((item) => item.state), { timeout: 60_000 }).toEqual(['done', 'done']);
    await expect.poll(async () => (await items(page)).map((item) => item.playable), { timeout: 20_000 }).toEqual([1, 1]);
    await page.screenshot({ path: join(artifactsDir, 'e2e-queue-history.png') });
  });

  it('still shows both runs and their videos after a reload', async () => {
    await openPage();
    await openPanel();
    await expect.poll(async () => (await items(page)).map((item) => [item.state, item.playable]), { timeout: 20_000 }).toEqual([
      ['done', 1],
      ['done', 1],
    ]);
  });

  it('still shows both runs and their videos after the server restarts', async () => {
    // The tab is closed while the server is down: an open tab's requests would fail then, by design.
    await page.goto('about:blank');
    await serve.stop();
    serve = await startServe(['--emulator'], env, root);
    await openPage();
    await openPanel();
    await expect.poll(async () => (await items(page)).map((item) => [item.state, item.playable]), { timeout: 20_000 }).toEqual([
      ['done', 1],
      ['done', 1],
    ]);
    await page.screenshot({ path: join(artifactsDir, 'e2e-queue-after-restart.png') });
  });

  it('re-opens a past run\'s workflow, and clears the history when asked', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#clear');
    await expect.poll(() => page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.length)).toBe(0);
    await page.locator('#queue-panel .queue-item button', { hasText: 'Open workflow' }).first().click();
    await expect.poll(() => page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.length)).toBe(5);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#queue-panel .queue-clear');
    await expect.poll(async () => (await items(page)).length).toBe(0);
    expect(watch.problems.filter((problem) => !problem.includes('/ws'))).toEqual([]);
  });
});
