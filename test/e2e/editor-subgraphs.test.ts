import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, openEditorPage, skipReason } from '../helpers/browser.js';
import { type EditorWindow, pointOf, widgetValue, waitForPlayingVideo } from '../helpers/editor-actions.js';
import { watchPage } from './page-watch.js';
import { startServe, type ServeProcess } from './serve-cli.js';

/**
 * Issue 14, point 1 in the editor: a v1 workflow whose Runway node sits in a nested subgraph opens with the
 * instance as one node titled with its subgraph's name (no placeholder), runs from the editor with exactly one
 * create carrying the promoted prompt and the inner node's values, plays the video, and saves its definitions
 * unchanged.
 */

if (!chromiumAvailable) console.warn(skipReason);
const fixturePath = new URL('../fixtures/comfyui/runway-nested-subgraph.v1.json', import.meta.url).pathname;
const examples = new URL('../../examples/', import.meta.url).pathname;

type Json = Record<string, unknown>;

interface PageNode {
  id: number;
  type: string;
  title: string;
  inputs: string[];
  outputs: string[];
  menu: string[];
}

function pageNodes(page: Page): Promise<PageNode[]> {
  return page.evaluate(() =>
    (window as unknown as EditorWindow).reelgraph.graph.nodes.map((node) => {
      const n = node as unknown as {
        id: number; type: string; title: string; inputs?: { name: string }[]; outputs?: { name: string }[];
        getExtraMenuOptions?: () => ({ content?: string } | null)[];
      };
      const menu = (n.getExtraMenuOptions?.() ?? []).map((entry) => entry?.content ?? '');
      return { id: n.id, type: n.type, title: n.title, inputs: (n.inputs ?? []).map((s) => s.name), outputs: (n.outputs ?? []).map((s) => s.name), menu };
    }),
  );
}

describe.skipIf(!chromiumAvailable)('editor: subgraph instances open read-through and run (serve --emulator)', () => {
  let serve: ServeProcess;
  let emulatorUrl: string;
  let browser: Browser;
  let page: Page;
  let root: string;
  let watch: { problems: string[] };
  let original: Json;

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-subgraphs-'));
    await mkdir(artifactsDir, { recursive: true });
    // The fixture's LoadImage names images/sunset.jpg in the input folder.
    await mkdir(join(root, 'input', 'images'), { recursive: true });
    await copyFile(join(examples, 'images', 'sunset.jpg'), join(root, 'input', 'images', 'sunset.jpg'));
    original = JSON.parse(await readFile(fixturePath, 'utf8')) as Json;
    const env = { REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    serve = await startServe(['--emulator', '--input-dir', join(root, 'input'), '--output-dir', join(root, 'output')], env, root);
    emulatorUrl = /built-in emulator at (http:\/\/\S+)/.exec(serve.stderr())![1]!;
    browser = await launchBrowser();
    page = await openEditorPage(browser, serve.url, { acceptDownloads: true });
    watch = watchPage(page);
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const emulatorJobs = async (): Promise<{ provider: string; request: Json }[]> =>
    ((await (await fetch(`${emulatorUrl}/_emulator/jobs`)).json()) as { jobs: { provider: string; request: Json }[] }).jobs;

  it('opens the nested-subgraph workflow with the instance titled "Animate", its slots and promoted prompt, and no placeholder', async () => {
    await page.setInputFiles('#open-file', fixturePath);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Opened'));
    expect(await page.textContent('#status')).toBe('Opened runway-nested-subgraph.v1.json (subgraphs "Animate", "Runway call": read-only inside, runs as saved)');
    expect(await page.getAttribute('#status', 'data-tone')).toBe('ok');
    const nodes = await pageNodes(page);
    expect(nodes.map((node) => node.title)).not.toContainEqual(expect.stringContaining('missing'));
    const instance = nodes.find((node) => node.id === 10)!;
    expect(instance).toMatchObject({ type: '6a3f1c2e-0d4b-4f7a-9e21-3b5c7d9e1f01', title: 'Animate', inputs: ['image', 'prompt'], outputs: ['VIDEO'] });
    expect(await widgetValue(page, 10, 'prompt')).toBe('A paper boat drifts down a rain-soaked gutter, macro, slow push in');
    // Its menu says what the editor does with it.
    expect(instance.menu.join('\n')).toContain('Subgraph "Animate": opened read-through: its inner nodes are not shown or edited here');
    await page.screenshot({ path: join(artifactsDir, 'e2e-subgraph-open.png') });
  });

  it('Run sends it so the server flattens it: exactly one create with the intended params, and the video plays', async () => {
    // The estimate is asked for the same workflow the run sends: one job, before anything is paid.
    await page.waitForFunction(() => document.querySelector('#estimate')?.textContent?.endsWith('1 job'), undefined, { timeout: 30_000 });
    const before = (await emulatorJobs()).length;
    await page.click('#run');
    await page.waitForFunction(() => /^(Done|Failed|Stopped)/.test(document.querySelector('#status')?.textContent ?? '') || document.querySelector('#status')?.getAttribute('data-tone') === 'error', undefined, { timeout: 90_000 });
    const states = await page.evaluate(() => [...(window as unknown as EditorWindow).reelgraph.runStates.entries()]);
    expect(await page.textContent('#status'), JSON.stringify(states)).toBe('Done');
    await waitForPlayingVideo(page);
    const jobs = await emulatorJobs();
    expect(jobs).toHaveLength(before + 1);
    expect(jobs.at(-1)!.provider).toBe('runway');
    expect(jobs.at(-1)!.request).toMatchObject({
      model: 'gen4_turbo', promptText: 'A paper boat drifts down a rain-soaked gutter, macro, slow push in', ratio: '960:960', duration: 5, seed: 31337,
    });
    // The run's states are shown on the instance the inner nodes belong to ("10:…" → node 10).
    expect(states.find(([id]) => id === '10')?.[1].state).toBe('done');
    // The badge follows the plan: the video is in the cache now, so Run again would pay nothing.
    await page.waitForFunction(() => / 0 jobs$/.test(document.querySelector('#estimate')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.screenshot({ path: join(artifactsDir, 'e2e-subgraph-run.png') });
  });

  it('Save keeps the definitions byte-equal and the instance as it was', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const savedPath = join(root, 'saved-subgraph.json');
    await download.saveAs(savedPath);
    const saved = JSON.parse(await readFile(savedPath, 'utf8')) as Json;
    expect(JSON.stringify(saved.definitions)).toBe(JSON.stringify(original.definitions));
    const instance = (saved.nodes as Json[]).find((node) => node.id === 10)!;
    const opened = (original.nodes as Json[]).find((node) => node.id === 10)!;
    for (const key of ['type', 'title', 'mode', 'inputs', 'outputs', 'properties', 'widgets_values', 'pos']) expect(instance[key], key).toEqual(opened[key]);
    expect(watch.problems).toEqual([]);
  });

  it('an edited promoted value is saved on the instance and is what the next run sends', async () => {
    await page.evaluate(() => {
      const node = (window as unknown as EditorWindow).reelgraph.graph.getNodeById(10)!;
      node.widgets.find((w) => w.name === 'prompt')!.value = 'A kite over a windy beach';
    });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const savedPath = join(root, 'saved-edited.json');
    await download.saveAs(savedPath);
    const saved = JSON.parse(await readFile(savedPath, 'utf8')) as Json;
    expect((saved.nodes as Json[]).find((node) => node.id === 10)!.widgets_values).toEqual(['A kite over a windy beach']);
    expect(JSON.stringify(saved.definitions)).toBe(JSON.stringify(original.definitions));
    const before = (await emulatorJobs()).length;
    await page.click('#run');
    await page.waitForFunction(() => /^(Done|Failed|Stopped)/.test(document.querySelector('#status')?.textContent ?? '') || document.querySelector('#status')?.getAttribute('data-tone') === 'error', undefined, { timeout: 90_000 });
    expect(await page.textContent('#status')).toBe('Done');
    const jobs = await emulatorJobs();
    expect(jobs).toHaveLength(before + 1);
    expect(jobs.at(-1)!.request).toMatchObject({ promptText: 'A kite over a windy beach', seed: 31337 });
  });

  it('a problem inside the subgraph refuses the run before anything is paid, and is shown on the instance', async () => {
    await page.evaluate(() => {
      const node = (window as unknown as EditorWindow).reelgraph.graph.getNodeById(10)!;
      node.widgets.find((w) => w.name === 'prompt')!.value = 'x'.repeat(1001);
    });
    const before = (await emulatorJobs()).length;
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('need attention'));
    // The inner Runway node (execution id "10:5:7") is marked on the instance the editor shows.
    const state = await page.evaluate(() => (window as unknown as EditorWindow).reelgraph.runStates.get('10'));
    expect(state?.state).toBe('error');
    expect(state?.errors?.join('\n')).toContain('Prompt too long — 1001 characters, limit 1000');
    expect((await emulatorJobs()).length).toBe(before);
  });

  it('a hostile subgraph name reaches the title and the menu as text only', async () => {
    const hostile = structuredClone(original);
    const name = '<img src=x onerror="window.__pwned=1">';
    ((hostile.definitions as { subgraphs: Json[] }).subgraphs[0]!).name = name;
    delete (hostile.nodes as Json[]).find((node) => node.id === 10)!.title;
    await page.evaluate((data) => (window as unknown as { reelgraph: { loadGraphData(data: unknown): void } }).reelgraph.loadGraphData(data), hostile);
    expect((await pageNodes(page)).find((node) => node.id === 10)!.title).toBe(name);
    const title = await pointOf(page, 10, { kind: 'title' });
    await page.mouse.click(title.x, title.y, { button: 'right' });
    const entry = page.locator('.litecontextmenu .litemenu-entry', { hasText: 'opened read-through' });
    await entry.first().waitFor({ state: 'visible' });
    expect(await entry.first().textContent()).toContain(`Subgraph "${name}"`);
    expect(await page.locator('.litecontextmenu img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.keyboard.press('Escape');
    await page.mouse.click(5, 5);
  });
});
