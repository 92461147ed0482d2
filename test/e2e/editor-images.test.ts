import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, openEditorPage, skipReason } from '../helpers/browser.js';
import { chooseInCombo, type EditorWindow, nodeState, pointOf, widgetValue, idOf } from '../helpers/editor-actions.js';
import { watchPage } from './page-watch.js';

/** Issue 13, point 5: LoadImage shows its image and the input folder's list; images dropped on the canvas are uploaded, checked and used. */

if (!chromiumAvailable) console.warn(skipReason);

/** Drops a file at a point of the canvas the way a browser does: dragover, then drop with a DataTransfer. */
async function dropFile(page: Page, bytes: Buffer, name: string, type: string, at: { x: number; y: number }): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ base64, name, type }) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(base64), (char) => char.charCodeAt(0))], name, { type }));
      return data;
    },
    { base64: bytes.toString('base64'), name, type },
  );
  await page.dispatchEvent('#graph-canvas', 'dragover', { dataTransfer: transfer, clientX: at.x, clientY: at.y });
  await page.dispatchEvent('#graph-canvas', 'drop', { dataTransfer: transfer, clientX: at.x, clientY: at.y });
}

describe.skipIf(!chromiumAvailable)('editor: images you can see', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let root: string;
  let watch: { problems: string[] };
  const prompts: Record<string, { inputs: Record<string, unknown> }>[] = [];

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-images-'));
    await mkdir(artifactsDir, { recursive: true });
    emulator = await startEmulator({ timing: { queuedMs: 100, runningMs: 300 } });
    const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, cache: false });
    browser = await launchBrowser();
    page = await openEditorPage(browser, server.url, {
      keepDefault: true,
      beforeLoad: (opened) => {
        watch = watchPage(opened);
        opened.on('request', (request) => {
          if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/prompt') prompts.push((request.postDataJSON() as { prompt: (typeof prompts)[number] }).prompt);
        });
      },
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await emulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows the example image as a thumbnail in LoadImage', async () => {
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((entry) => entry.name.includes('/api/view?filename=sunset.jpg&subfolder=images&type=input')));
    const loadImage = await idOf(page, 'LoadImage');
    const title = await pointOf(page, loadImage, { kind: 'title' });
    await page.screenshot({ path: join(artifactsDir, 'e2e-images-thumbnail.png'), clip: { x: Math.max(0, title.x - 80), y: Math.max(0, title.y - 30), width: 420, height: 360 } });
  });

  it('drops a JPEG on the canvas: uploads it, puts it in LoadImage, lists it, and Run uses it', async () => {
    const jpeg = await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 30, g: 120, b: 200 } } }).jpeg().toBuffer();
    const box = (await page.locator('#graph-canvas').boundingBox())!;
    await dropFile(page, jpeg, 'harbour.jpg', 'image/jpeg', { x: box.x + box.width / 2, y: box.y + box.height - 60 });
    const loadImage = await idOf(page, 'LoadImage');
    await expect.poll(() => widgetValue(page, loadImage, 'image')).toBe('harbour.jpg');
    expect(await page.textContent('#status')).toBe('Using harbour.jpg in Load Image');
    await page.screenshot({ path: join(artifactsDir, 'e2e-images-dropped.png') });
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Done', undefined, { timeout: 60_000 });
    expect(prompts.at(-1)![String(loadImage)]!.inputs.image).toBe('harbour.jpg');
    // The list holds the input folder's images: the example's and the one just dropped.
    await chooseInCombo(page, loadImage, 'image', 'images/sunset.jpg');
    expect(await widgetValue(page, loadImage, 'image')).toBe('images/sunset.jpg');
    await chooseInCombo(page, loadImage, 'image', 'harbour.jpg');
  });

  it('refuses a text file named .png at once, with the reason on the node', async () => {
    const loadImage = await idOf(page, 'LoadImage');
    const at = await pointOf(page, loadImage, { kind: 'title' });
    await dropFile(page, Buffer.from('this is not a picture'), 'fake.png', 'image/png', { x: at.x, y: at.y + 60 });
    await expect.poll(async () => (await nodeState(page, loadImage))?.state).toBe('error');
    expect((await nodeState(page, loadImage))?.errors?.[0]).toContain('fake.png is not an image that can be used');
    expect(await widgetValue(page, loadImage, 'image')).toBe('harbour.jpg');
    await page.screenshot({ path: join(artifactsDir, 'e2e-images-refused.png') });
    // The refused upload is the one request expected to fail.
    expect(watch.problems.filter((problem) => !problem.includes('/api/upload/image') && !problem.includes('400 (Bad Request)'))).toEqual([]);
  });
});
