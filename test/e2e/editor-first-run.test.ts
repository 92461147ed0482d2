import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, skipReason } from '../helpers/browser.js';
import { type EditorWindow, waitForPlayingVideo } from '../helpers/editor-actions.js';
import { watchPage } from './page-watch.js';
import { startServe, type ServeProcess } from './serve-cli.js';

/**
 * Issue 13, point 1: a new user runs `reelgraph serve --emulator`, opens the page and presses Run.
 * Nothing else: the default workflow, its example image and the providers are all there.
 */

if (!chromiumAvailable) console.warn(skipReason);

function nodeTypes(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.map((node) => (node as unknown as { type: string }).type));
}

describe.skipIf(!chromiumAvailable)('editor: the first run (serve --emulator)', () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let root: string;
  let watch: { problems: string[] };

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-first-'));
    await mkdir(artifactsDir, { recursive: true });
    const env = { REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    // A fresh working folder: serve's input and output folders do not exist yet.
    serve = await startServe(['--emulator'], env, root);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    watch = watchPage(page);
    await page.goto(serve.url);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('opens the default five-node workflow, says it is in emulator mode, and Run plays a video', async () => {
    expect(await nodeTypes(page)).toEqual(['LoadImage', 'ValidateImage', 'RunwayI2V', 'Poll', 'SaveVideo']);
    expect(await page.isVisible('#emulator')).toBe(true);
    expect(await page.textContent('#emulator')).toContain('Emulator');
    await page.screenshot({ path: join(artifactsDir, 'e2e-first-run-open.png') });
    await page.click('#run');
    await waitForPlayingVideo(page);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Done');
    await page.screenshot({ path: join(artifactsDir, 'e2e-first-run-video.png') });
  });

  it('runs every entry of Examples as is', async () => {
    page.on('dialog', (dialog) => void dialog.accept());
    const names = await page.$$eval('#examples option', (options) => options.map((option) => (option as HTMLOptionElement).value).filter(Boolean));
    expect(names).toEqual(['cometapi-gen3a-turbo.json', 'runcomfy-gen4-turbo.json', 'runway-gen4-turbo.json']);
    for (const name of names) {
      await page.selectOption('#examples', name);
      await page.waitForFunction((name) => document.querySelector('#status')?.textContent?.includes(name), name);
      await page.click('#run');
      await page.waitForFunction(() => ['Done', 'Failed'].some((word) => document.querySelector('#status')?.textContent?.startsWith(word)), undefined, { timeout: 60_000 });
      expect(await page.textContent('#status'), name).toBe('Done');
      await waitForPlayingVideo(page);
    }
    await page.screenshot({ path: join(artifactsDir, 'e2e-first-run-examples.png') });
    expect(watch.problems).toEqual([]);
  });
});
