import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, openEditorPage, skipReason } from '../helpers/browser.js';
import { chooseInCombo, type EditorWindow, pointOf, widgetValue, idOf } from '../helpers/editor-actions.js';
import { watchPage } from './page-watch.js';

/** Issue 13: editing the default workflow with real mouse and keyboard (text, undo, modes, menus). */

if (!chromiumAvailable) console.warn(skipReason);

interface GraphFacts {
  types: string[];
  links: [string, string][];
}

/** Node types and links (as origin type → target type) of the page's graph. */
function facts(page: Page): Promise<GraphFacts> {
  return page.evaluate(() => {
    const { graph } = (window as unknown as EditorWindow).reelgraph;
    const typeOf = (id: number) => (graph.getNodeById(id) as unknown as { type: string } | null)?.type ?? '?';
    const links = [...graph.links.values()].map((link) => {
      const { origin_id, target_id } = link as { origin_id: number; target_id: number };
      return [typeOf(origin_id), typeOf(target_id)] as [string, string];
    });
    return { types: graph.nodes.map((node) => (node as unknown as { type: string }).type).sort(), links: links.sort() };
  });
}

const DEFAULT_LINKS: [string, string][] = [
  ['LoadImage', 'ValidateImage'],
  ['Poll', 'SaveVideo'],
  ['RunwayI2V', 'Poll'],
  ['ValidateImage', 'RunwayI2V'],
];

/** A point on empty canvas, below the default workflow. */
async function emptyCanvas(page: Page): Promise<{ x: number; y: number }> {
  const box = (await page.locator('#graph-canvas').boundingBox())!;
  return { x: box.x + box.width / 2, y: box.y + box.height - 60 };
}

describe.skipIf(!chromiumAvailable)('editor: editing in Chromium', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let root: string;
  let watch: { problems: string[] };
  const prompts: Record<string, { inputs: Record<string, unknown>; class_type: string }>[] = [];

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-editing-'));
    await mkdir(artifactsDir, { recursive: true });
    emulator = await startEmulator({ timing: { queuedMs: 100, runningMs: 300 } });
    const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, emulatorUrl: emulator.url });
    browser = await launchBrowser();
    page = await openEditorPage(browser, server.url, {
      keepDefault: true,
      answerDialogs: false,
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

  it('keeps a typed prompt: type in the node, click elsewhere, Run — the request carries the typed text', async () => {
    const runway = await idOf(page, 'RunwayI2V');
    const at = await pointOf(page, runway, { kind: 'widget', name: 'promptText' });
    await page.mouse.click(at.x, at.y);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('A red kite climbs over the dunes');
    // Enter is a newline in the prompt, not "submit".
    await page.keyboard.press('Enter');
    await page.keyboard.type('slow pan left');
    const empty = await emptyCanvas(page);
    await page.mouse.click(empty.x, empty.y);
    await page.screenshot({ path: join(artifactsDir, 'e2e-text-typed.png') });
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Done', undefined, { timeout: 20_000 }).catch(async () => {
      throw new Error(`status: ${await page.textContent('#status')} ${JSON.stringify(watch.problems)}`);
    });
    const sent = prompts.at(-1)!;
    expect(sent[String(runway)]!.inputs.promptText).toBe('A red kite climbs over the dunes\nslow pan left');
    expect(await widgetValue(page, runway, 'promptText')).toBe('A red kite climbs over the dunes\nslow pan left');
  });

  it('Run sends what is on screen even while the text area still has focus', async () => {
    const runway = await idOf(page, 'RunwayI2V');
    const at = await pointOf(page, runway, { kind: 'widget', name: 'promptText' });
    await page.mouse.click(at.x, at.y);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Fog rolls in');
    const before = prompts.length;
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => prompts.length).toBe(before + 1);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Done', undefined, { timeout: 60_000 });
    expect(prompts.at(-1)![String(runway)]!.inputs.promptText).toBe('Fog rolls in');
  });

  it('undoes a node deletion with its links (Ctrl+Z), redoes it (Ctrl+Y, Ctrl+Shift+Z)', async () => {
    const before = await facts(page);
    expect(before.links).toEqual(DEFAULT_LINKS);
    const title = await pointOf(page, await idOf(page, 'ValidateImage'), { kind: 'title' });
    await page.mouse.click(title.x, title.y);
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await facts(page)).types.length).toBe(4);
    await page.screenshot({ path: join(artifactsDir, 'e2e-undo-deleted.png') });
    // Like ComfyUI, deleting a node whose input and output have the same type keeps the chain linked through it.
    expect((await facts(page)).links).toEqual([['LoadImage', 'RunwayI2V'], ['Poll', 'SaveVideo'], ['RunwayI2V', 'Poll']]);
    await page.keyboard.press('Control+Z');
    await expect.poll(() => facts(page)).toEqual(before);
    await page.screenshot({ path: join(artifactsDir, 'e2e-undo-restored.png') });
    await page.keyboard.press('Control+Y');
    await expect.poll(async () => (await facts(page)).types.length).toBe(4);
    await page.keyboard.press('Control+Z');
    await expect.poll(() => facts(page)).toEqual(before);
    await page.keyboard.press('Control+Shift+Z');
    await expect.poll(async () => (await facts(page)).types.length).toBe(4);
    await page.keyboard.press('Control+Z');
    await expect.poll(() => facts(page)).toEqual(before);
  });

  it('undoes a move and a widget change', async () => {
    const poll = await idOf(page, 'Poll');
    const posOf = () => page.evaluate((id) => [...(window as unknown as EditorWindow).reelgraph.graph.getNodeById(id)!.pos], poll);
    const start = await posOf();
    const title = await pointOf(page, poll, { kind: 'title' });
    await page.mouse.move(title.x, title.y);
    await page.mouse.down();
    await page.mouse.move(title.x + 40, title.y + 120, { steps: 6 });
    await page.mouse.up();
    expect(await posOf()).not.toEqual(start);
    const runway = await idOf(page, 'RunwayI2V');
    await chooseInCombo(page, runway, 'duration', '10');
    expect(await widgetValue(page, runway, 'duration')).toBe(10);
    await page.locator('#graph-canvas').focus();
    await page.keyboard.press('Control+Z');
    await expect.poll(() => widgetValue(page, runway, 'duration')).toBe(5);
    await page.keyboard.press('Control+Z');
    await expect.poll(posOf).toEqual(start);
  });

  it('asks before Clear drops unsaved work, and Clear can be undone', async () => {
    const before = await facts(page);
    const title = await pointOf(page, await idOf(page, 'Poll'), { kind: 'title' });
    await page.mouse.move(title.x, title.y);
    await page.mouse.down();
    await page.mouse.move(title.x + 30, title.y + 30, { steps: 4 });
    await page.mouse.up();
    const messages: string[] = [];
    page.once('dialog', (dialog) => {
      messages.push(dialog.message());
      void dialog.dismiss();
    });
    await page.click('#clear');
    await expect.poll(() => messages.length).toBe(1);
    expect(messages[0]).toContain('unsaved changes');
    expect(await facts(page)).toEqual(before);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#clear');
    await expect.poll(async () => (await facts(page)).types.length).toBe(0);
    await page.locator('#graph-canvas').focus();
    await page.keyboard.press('Control+Z');
    await expect.poll(() => facts(page)).toEqual(before);
  });

  it('offers no "Convert to Subgraph" in the node or canvas menu', async () => {
    const title = await pointOf(page, await idOf(page, 'Poll'), { kind: 'title' });
    await page.mouse.click(title.x, title.y, { button: 'right' });
    const menu = page.locator('.litecontextmenu').last();
    await menu.waitFor({ state: 'visible' });
    const entries = await menu.locator('.litemenu-entry').allTextContents();
    expect(entries).toContain('Mode');
    expect(entries.join('|')).not.toContain('Subgraph');
    // litegraph closes its menus on the next pointerdown, which that click then does nothing else.
    const empty = await emptyCanvas(page);
    await page.mouse.click(empty.x, empty.y);
    await expect.poll(() => page.locator('.litecontextmenu').count()).toBe(0);
  });

  it('bypasses (Ctrl+B) and mutes (Ctrl+M) the selection with ComfyUI\'s modes, and Run follows them', async () => {
    const modeOf = (id: number) => page.evaluate((id) => (window as unknown as EditorWindow).reelgraph.graph.getNodeById(id)!.mode, id);
    const [validate, save] = [await idOf(page, 'ValidateImage'), await idOf(page, 'SaveVideo')];
    const title = await pointOf(page, validate, { kind: 'title' });
    await page.mouse.click(title.x, title.y);
    await page.keyboard.press('Control+B');
    await expect.poll(() => modeOf(validate)).toBe(4);
    const saveTitle = await pointOf(page, save, { kind: 'title' });
    await page.mouse.click(saveTitle.x, saveTitle.y);
    await page.keyboard.press('Control+M');
    await expect.poll(() => modeOf(save)).toBe(2);
    await page.screenshot({ path: join(artifactsDir, 'e2e-modes-bypass-mute.png') });
    // What Run would send: the bypassed node passed through, the muted one left out.
    const prompt = await page.evaluate(() => (window as unknown as { reelgraph: { toApi(): Record<string, { class_type: string; inputs: Record<string, unknown> }> } }).reelgraph.toApi());
    const types = Object.values(prompt).map((node) => node.class_type).sort();
    expect(types).toEqual(['LoadImage', 'Poll', 'RunwayI2V']);
    const loadImage = await idOf(page, 'LoadImage');
    expect(prompt[String(await idOf(page, 'RunwayI2V'))]!.inputs.image).toEqual([String(loadImage), 0]);
    await page.keyboard.press('Control+M');
    await expect.poll(() => modeOf(save)).toBe(0);
    await page.keyboard.press('Control+Z');
    await expect.poll(() => modeOf(save)).toBe(2);
    await page.keyboard.press('Control+Y');
    await expect.poll(() => modeOf(save)).toBe(0);
  });

  it('offers Always, Never and Bypass in the Mode menu', async () => {
    const validate = await idOf(page, 'ValidateImage');
    const title = await pointOf(page, validate, { kind: 'title' });
    await page.mouse.click(title.x, title.y, { button: 'right' });
    await page.locator('.litecontextmenu .litemenu-entry', { hasText: /^Mode$/ }).click();
    const submenu = page.locator('.litecontextmenu').last();
    await expect.poll(() => submenu.locator('.litemenu-entry').allTextContents()).toEqual(['Always', 'Never (mute)', '✓ Bypass']);
    await submenu.locator('.litemenu-entry', { hasText: /^Always$/ }).click();
    await expect.poll(() => page.evaluate((id) => (window as unknown as EditorWindow).reelgraph.graph.getNodeById(id)!.mode, validate)).toBe(0);
  });

  it('adds a node from the canvas menu by category ("Add Node" › api node › video › Runway)', async () => {
    const before = (await facts(page)).types.length;
    const empty = await emptyCanvas(page);
    await page.mouse.click(empty.x, empty.y, { button: 'right' });
    for (const entry of ['Add Node', 'api node', 'video', 'Runway', 'Poll Task']) {
      await page.locator('.litecontextmenu .litemenu-entry', { hasText: new RegExp(`^${entry}$`) }).last().click();
    }
    await expect.poll(async () => (await facts(page)).types.length).toBe(before + 1);
    await page.screenshot({ path: join(artifactsDir, 'e2e-menu-add-node.png') });
    await page.locator('#graph-canvas').focus();
    await page.keyboard.press('Control+Z');
    await expect.poll(async () => (await facts(page)).types.length).toBe(before);
  });

  it('link-release search lists only the nodes that accept the dragged type, and connects the one picked', async () => {
    const loadImage = await idOf(page, 'LoadImage');
    const start = await pointOf(page, loadImage, { kind: 'output', slot: 0 });
    const empty = await emptyCanvas(page);
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move(empty.x - 300, empty.y, { steps: 10 });
    await page.mouse.up();
    await page.locator('.litecontextmenu .litemenu-entry', { hasText: /^Search$/ }).click();
    const box = page.locator('.litesearchbox');
    await box.waitFor({ state: 'visible' });
    await expect.poll(async () => (await box.locator('.lite-search-item-type').allTextContents()).sort()).toEqual(['RunwayI2V', 'ValidateImage']);
    const where = (await box.boundingBox())!;
    // Opened where the link was dropped, not at the page's corner.
    expect(where.x).toBeGreaterThan(200);
    expect(where.y).toBeGreaterThan(400);
    await page.screenshot({ path: join(artifactsDir, 'e2e-link-release-search.png') });
    const linksBefore = (await facts(page)).links.length;
    await box.locator('.lite-search-item', { hasText: 'Validate Image' }).click();
    await expect.poll(async () => (await facts(page)).links.length).toBe(linksBefore + 1);
    expect((await facts(page)).links.filter(([from, to]) => from === 'LoadImage' && to === 'ValidateImage')).toHaveLength(2);
    await page.locator('#graph-canvas').focus();
    await page.keyboard.press('Control+Z');
    await expect.poll(async () => (await facts(page)).links.length).toBe(linksBefore);
  });

  it('logged no console errors and no failed requests', () => {
    expect(watch.problems).toEqual([]);
  });
});
