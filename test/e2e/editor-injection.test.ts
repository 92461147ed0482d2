import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { embedWorkflowMetadata } from '../../src/sharing/provenance.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, openEditorPage, skipReason } from '../helpers/browser.js';
import { addNodeBySearch, type EditorWindow, pointOf, typeIntoWidget, widgetValue } from '../helpers/editor-actions.js';
import { makeMp4 } from '../helpers/mp4.js';

/**
 * Issue 10, point 2: strings from a shared workflow or MP4 reach the editor's DOM as text. A
 * crafted placeholder type, property name and slot type are shown literally in every menu and
 * panel that names them, nothing navigates, no markup is created, and a number typed into a
 * widget's prompt is parsed as a number, never evaluated. Every CSP violation is recorded too:
 * a blocked inline handler or eval would mean the markup or the code got that far.
 */

if (!chromiumAvailable) console.warn(skipReason);

const NODE_TYPE = '<meta http-equiv="refresh" content="0;url=http://127.0.0.2:9/">';
const PROPERTY = '<img src=x onerror="window.__pwned=1">';
const SLOT_TYPE = '<b id=slot-x>T</b>';
const PLACEHOLDER_ID = 7;

function craftedWorkflow(): unknown {
  return {
    last_node_id: PLACEHOLDER_ID,
    last_link_id: 0,
    nodes: [
      {
        id: PLACEHOLDER_ID,
        type: NODE_TYPE,
        pos: [300, 200],
        size: [320, 120],
        flags: {},
        order: 0,
        mode: 0,
        inputs: [{ name: 'input', type: SLOT_TYPE, link: null }],
        outputs: [],
        properties: { [PROPERTY]: 'value' },
        widgets_values: [],
      },
    ],
    links: [],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
}

/** Drops a file on the canvas the way a browser does: dragover, then drop with a DataTransfer. */
async function dropFile(page: Page, bytes: Buffer, name: string, type: string): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ base64, name, type }) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(base64), (char) => char.charCodeAt(0))], name, { type }));
      return data;
    },
    { base64: bytes.toString('base64'), name, type },
  );
  await page.dispatchEvent('#graph-canvas', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#graph-canvas', 'drop', { dataTransfer: transfer });
}

/** Drops a file and waits until the editor has opened it (its status is set last, after the view is fitted). */
async function openFile(page: Page, bytes: Buffer, name: string, type: string): Promise<void> {
  await page.evaluate(() => (document.querySelector('#status')!.textContent = ''));
  await dropFile(page, bytes, name, type);
  await page.waitForFunction(() => document.querySelector('#status')?.textContent !== '');
  expect(await page.textContent('#status')).toContain('Missing node types');
  expect(await page.evaluate((id) => (window as unknown as EditorWindow).reelgraph.graph.getNodeById(id)?.id, PLACEHOLDER_ID)).toBe(PLACEHOLDER_ID);
}

interface Harm {
  url: string;
  pwned: unknown;
  slotElements: number;
  violations: string[];
}

function harm(page: Page): Promise<Harm> {
  return page.evaluate(() => ({
    url: location.href,
    pwned: (window as unknown as { __pwned?: unknown }).__pwned,
    slotElements: document.querySelectorAll('#slot-x').length,
    violations: (window as unknown as { __violations: string[] }).__violations,
  }));
}

async function closeMenus(page: Page): Promise<void> {
  await page.mouse.click(5, 5);
  await expect.poll(() => page.locator('.litecontextmenu').count()).toBe(0);
}

async function rightClickTitle(page: Page): Promise<void> {
  const title = await pointOf(page, PLACEHOLDER_ID, { kind: 'title' });
  await page.mouse.click(title.x, title.y, { button: 'right' });
  await page.locator('.litecontextmenu').first().waitFor({ state: 'visible' });
}

/** Five attacks: node menu title, Properties submenu, Properties panel, Mode submenu, slot menu. */
async function attackMenus(page: Page, start: Harm): Promise<number> {
  // 1. The node menu's title is the placeholder's type.
  await rightClickTitle(page);
  expect(await page.locator('.litecontextmenu .litemenu-title').first().textContent()).toBe(NODE_TYPE);
  // 2. The Properties submenu names the property.
  await page.locator('.litecontextmenu .litemenu-entry', { hasText: /^Properties$/ }).click();
  const names = page.locator('.litecontextmenu .property_name');
  await names.first().waitFor({ state: 'visible' });
  expect(await names.allTextContents()).toEqual([PROPERTY]);
  expect(await page.locator('.litecontextmenu .property_value').first().textContent()).toBe('value');
  expect(await harm(page)).toEqual(start);
  await closeMenus(page);
  // 3. The Properties panel shows the type and the property name.
  await rightClickTitle(page);
  await page.locator('.litecontextmenu .litemenu-entry', { hasText: /^Properties Panel$/ }).click();
  const panel = page.locator('#node-panel');
  await panel.waitFor({ state: 'visible' });
  expect(await panel.locator('.node_type').textContent()).toBe(NODE_TYPE);
  expect(await panel.locator('.property_name').allTextContents()).toContain(PROPERTY);
  expect(await harm(page)).toEqual(start);
  await panel.locator('.close').click();
  // 4. The Mode submenu, opened from the crafted node's menu.
  await rightClickTitle(page);
  await page.locator('.litecontextmenu .litemenu-entry', { hasText: /^Mode$/ }).click();
  await expect.poll(() => page.locator('.litecontextmenu').last().locator('.litemenu-entry').allTextContents()).toEqual(['✓ Always', 'Never (mute)', 'Bypass']);
  expect(await harm(page)).toEqual(start);
  await closeMenus(page);
  // 5. The slot menu's title is the slot's type.
  const slot = await pointOf(page, PLACEHOLDER_ID, { kind: 'input', slot: 0 });
  await page.mouse.click(slot.x, slot.y, { button: 'right' });
  const slotTitle = page.locator('.litecontextmenu .litemenu-title').first();
  await slotTitle.waitFor({ state: 'visible' });
  expect(await slotTitle.textContent()).toBe(SLOT_TYPE);
  expect(await harm(page)).toEqual(start);
  await closeMenus(page);
  return 5;
}

describe.skipIf(!chromiumAvailable)('editor: strings from shared workflows and MP4s stay text', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let root: string;
  let start: Harm;
  let attacks = 0;

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\` (npm test does it in pretest)`);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-injection-'));
    await mkdir(artifactsDir, { recursive: true });
    emulator = await startEmulator({ timing: { queuedMs: 100, runningMs: 300 } });
    const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, cache: false });
    browser = await launchBrowser();
    page = await openEditorPage(browser, server.url, {
      beforeLoad: (page) =>
        void page.addInitScript(() => {
          const seen: string[] = [];
          (window as unknown as { __violations: string[] }).__violations = seen;
          document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
        }),
    });
    start = await harm(page);
    expect(start).toEqual({ url: `${server.url}/`, pwned: undefined, slotElements: 0, violations: [] });
  });

  afterAll(async () => {
    console.log(`editor injection attacks tried: ${attacks}`);
    await browser?.close();
    await server?.close();
    await emulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('shows a crafted workflow\'s node type, property name and slot type as text in every menu and panel', async () => {
    await openFile(page, Buffer.from(JSON.stringify(craftedWorkflow())), 'crafted.json', 'application/json');
    attacks += await attackMenus(page, start);
    await page.screenshot({ path: join(artifactsDir, 'e2e-injection-json.png') });
    expect(await harm(page)).toEqual(start);
  });

  it('does the same for the workflow an MP4 carries', async () => {
    const video = join(root, 'crafted.mp4');
    await makeMp4(video);
    await embedWorkflowMetadata(video, { workflow: craftedWorkflow() });
    await page.click('#clear');
    await page.waitForFunction(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.length === 0);
    await openFile(page, await readFile(video), 'crafted.mp4', 'video/mp4');
    attacks += await attackMenus(page, start);
    expect(await harm(page)).toEqual(start);
  });

  it('parses what is typed into a number widget as a number, never evaluating it', async () => {
    const runway = await addNodeBySearch(page, 'RunwayI2V', { x: 1000, y: 500 });
    // A seed that arrived as a string, as a crafted workflow can carry it, and the same text typed.
    await page.evaluate((id) => {
      const seed = (window as unknown as EditorWindow).reelgraph.graph.getNodeById(id)!.widgets.find((w) => w.name === 'seed')!;
      seed.value = '1;window.__pwned=2//1.5';
    }, runway);
    await typeIntoWidget(page, runway, 'seed', '1;window.__pwned=2//1.5');
    attacks += 1;
    // Refused: the widget keeps what it had, and nothing ran (not even as far as the CSP).
    expect(await widgetValue(page, runway, 'seed')).toBe('1;window.__pwned=2//1.5');
    expect(await harm(page)).toEqual(start);
    await typeIntoWidget(page, runway, 'seed', '(6*7)');
    attacks += 1;
    expect(await widgetValue(page, runway, 'seed')).toBe('1;window.__pwned=2//1.5');
    expect(await harm(page)).toEqual(start);
    // A number is still a number.
    await typeIntoWidget(page, runway, 'seed', ' 42 ');
    expect(await widgetValue(page, runway, 'seed')).toBe(42);
    expect(await harm(page)).toEqual(start);
  });
});
