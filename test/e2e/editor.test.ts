import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { parseWorkflow } from '../../src/comfy/index.js';
import { createNodeRegistry } from '../../src/nodes/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, openEditorPage, skipReason } from '../helpers/browser.js';
import { RUNWAY_KEY, writeInputImage } from '../helpers/server-prompts.js';
import { addNodeBySearch, chooseInCombo, openFileChooser, type EditorWindow, dragLink, linkCount, nodeState, typeIntoWidget, widgetValue } from '../helpers/editor-actions.js';

/** The editor in a real Chromium against the real server and the provider emulator. */

if (!chromiumAvailable) console.warn(skipReason);
const cliPath = new URL('../../dist/cli/main.js', import.meta.url).pathname;

describe.skipIf(!chromiumAvailable)('editor in Chromium', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let root: string;
  let env: NodeJS.ProcessEnv;
  const frames: string[] = [];

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\` (npm test does it in pretest)`);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-'));
    await mkdir(artifactsDir, { recursive: true });
    emulator = await startEmulator({ timing: { queuedMs: 1200, runningMs: 2500 } });
    env = {
      RUNWAYML_BASE_URL: emulator.url,
      RUNWAYML_API_SECRET: RUNWAY_KEY,
      REELGRAPH_STATE_DIR: join(root, 'state'),
      REELGRAPH_CACHE_DIR: join(root, 'cache'),
    };
    server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, cache: false });
    browser = await launchBrowser();
    page = await openEditorPage(browser, server.url, {
      acceptDownloads: true,
      beforeLoad: (opened) => opened.on('websocket', (ws) => ws.on('framereceived', (frame) => frames.push(String(frame.payload)))),
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await emulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('builds the five-node graph by hand, runs it with progress and a video preview, and saves it', async () => {
    const types = ['LoadImage', 'ValidateImage', 'RunwayI2V', 'Poll', 'SaveVideo'];
    const ids: number[] = [];
    for (const [index, type] of types.entries()) {
      ids.push(await addNodeBySearch(page, type, { x: 60 + index * 310, y: 160 + (index % 2) * 40 }));
    }
    const [load, validate, runway, poll, save] = ids as [number, number, number, number, number];
    await dragLink(page, load, 0, validate, 0);
    await dragLink(page, validate, 0, runway, 0);
    await dragLink(page, runway, 0, poll, 0);
    await dragLink(page, poll, 0, save, 0);
    expect(await linkCount(page)).toBe(4);

    // A wrong link (IMAGE into Poll's TASK input) is refused by the socket types.
    await dragLink(page, load, 0, poll, 0);
    expect(await linkCount(page)).toBe(4);

    // Upload the first frame through LoadImage's upload button and the file chooser.
    const frame = await writeInputImage(root, 'first-frame.png');
    const chooser = await openFileChooser(page, load, 'upload');
    await chooser.setFiles(join(root, frame));
    await page.waitForFunction((id) => (window as unknown as EditorWindow).reelgraph.graph.getNodeById(id)!.widgets[0]!.value === 'first-frame.png', load);

    await typeIntoWidget(page, runway, 'promptText', 'The harbour lights come on, slow dolly in');
    expect(await widgetValue(page, runway, 'promptText')).toBe('The harbour lights come on, slow dolly in');
    await typeIntoWidget(page, poll, 'interval_s', '0.2');
    // A fixed seed, so the saved file asks for exactly the same video again.
    await chooseInCombo(page, runway, 'control_after_generate', 'fixed');
    await typeIntoWidget(page, runway, 'seed', '1234');
    expect(await widgetValue(page, runway, 'control_after_generate')).toBe('fixed');
    expect(await widgetValue(page, poll, 'interval_s')).toBe(0.2);
    await page.screenshot({ path: join(artifactsDir, 'e2e-graph-built.png') });

    await page.keyboard.press('Control+Enter');
    await page.waitForFunction((id) => (window as unknown as EditorWindow).reelgraph.runStates.get(String(id))?.state === 'running', poll);
    await page.waitForFunction(() => /^(Done|Failed|Interrupted)/.test(document.querySelector('#status')?.textContent ?? ''), undefined, { timeout: 90_000 });
    expect(await page.textContent('#status')).toBe('Done');
    const preview = page.locator('video.node-preview');
    await preview.waitFor({ state: 'visible' });
    await page.waitForFunction(() => (document.querySelector('video.node-preview') as HTMLVideoElement).readyState >= 1);
    expect(await preview.getAttribute('src')).toMatch(/^\/api\/view\?filename=.+\.mp4/);
    expect((await nodeState(page, save))?.state).toBe('done');
    await page.screenshot({ path: join(artifactsDir, 'e2e-run-done.png') });
    expect(frames.some((f) => f.includes('"type":"progress"'))).toBe(true);
    expect(emulator.creates('runway')).toBe(1);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const savedPath = join(root, 'input', 'saved-workflow.json');
    await download.saveAs(savedPath);
    const saved = JSON.parse(await readFile(savedPath, 'utf8')) as { nodes: { type: string; widgets_values: unknown[]; properties: { ver?: string } }[] };
    expect(saved.nodes.map((n) => n.type).sort()).toEqual([...types].sort());
    // Each node records its definition's version where ui-to-graph.ts reads it.
    const registry = createNodeRegistry();
    for (const node of saved.nodes) expect(node.properties.ver, node.type).toBe(String(registry.get(node.type)!.version));
    const runwayNode = saved.nodes.find((n) => n.type === 'RunwayI2V')!;
    expect(runwayNode.widgets_values).toHaveLength(8);
    expect(['fixed', 'increment', 'decrement', 'randomize']).toContain(runwayNode.widgets_values[6]);
    const parsed = parseWorkflow(saved, registry);
    expect(parsed.graph.nodes.size).toBe(5);
    for (const node of parsed.graph.nodes.values()) expect(node.version, node.type).toBe(registry.get(node.type)!.version);

    await runSavedWithCli(savedPath, root, env, emulator);
    // Generous: a loaded 2-core CI box runs Chromium, the server, the emulator and the CLI at once.
  }, 180_000);

  it('opens a workflow dropped on the page and shows a validation error on the right node', async () => {
    // The example, with an image that is not in the input folder (serve copies the examples' own images there).
    const fixture = (await readFile(new URL('../../examples/runway-gen4-turbo.json', import.meta.url), 'utf8')).replace('images/sunset.jpg', 'images/not-here.jpg');
    const transfer = await page.evaluateHandle((text) => {
      const data = new DataTransfer();
      data.items.add(new File([text], 'runway-gen4-turbo.json', { type: 'application/json' }));
      return data;
    }, fixture);
    await page.dispatchEvent('#graph-canvas', 'dragover', { dataTransfer: transfer });
    await page.dispatchEvent('#graph-canvas', 'drop', { dataTransfer: transfer });
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Opened runway-gen4-turbo.json'));
    expect(await page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.length)).toBe(5);

    // The image is not in this server's input folder: LoadImage (node 1) must say so.
    await page.click('#run');
    await page.waitForFunction(() => (window as unknown as EditorWindow).reelgraph.runStates.get('1')?.state === 'error');
    const state = await nodeState(page, 1);
    expect(state?.errors?.join(' ')).toMatch(/not-here\.jpg/);
    expect((await nodeState(page, 3))?.state).not.toBe('error');
    expect(await page.textContent('#status')).toMatch(/need attention/);
    await page.screenshot({ path: join(artifactsDir, 'e2e-validation-error.png') });
  });

  it('offers only the ratios the chosen provider accepts for the chosen model', async () => {
    const runway = 3;
    await chooseInCombo(page, runway, 'provider', 'cometapi');
    await chooseInCombo(page, runway, 'model', 'gen3a_turbo');
    // CometAPI's document lists eight ratios for gen3a_turbo (providers.md corrections): the current one stays.
    expect(await widgetValue(page, runway, 'ratio')).toBe('1280:720');
    const ratios = await page.evaluate(
      (id) => (window as unknown as EditorWindow).reelgraph.graph.getNodeById(id)!.widgets.find((w) => w.name === 'ratio') as unknown as { options: { values: string[] } },
      runway,
    );
    expect(ratios.options.values).toEqual(['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672', '1280:768', '768:1280']);
    await chooseInCombo(page, runway, 'provider', 'runcomfy');
    // RunComfy's gen-3 page allows only its two ratios: the value moves to one of them.
    expect(await widgetValue(page, runway, 'ratio')).toBe('1280:768');
    await chooseInCombo(page, runway, 'provider', 'runway');
    expect(await widgetValue(page, runway, 'model')).toBe('gen4_turbo');
    expect(await widgetValue(page, runway, 'ratio')).toBe('1280:720');
  });

  it('restores the autosaved graph after a reload', async () => {
    // Wait until the autosave holds the graph as it is now (the editor saves on changes and every second).
    await page.waitForFunction(() => {
      const saved = localStorage.getItem('reelgraph.workflow');
      const live = (window as unknown as { reelgraph: { graph: { serialize(): { nodes: unknown[] } } } }).reelgraph.graph.serialize();
      return saved !== null && JSON.stringify((JSON.parse(saved) as { nodes: unknown[] }).nodes) === JSON.stringify(live.nodes);
    });
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.length)).toBe(5);
  });
});

/** The file saved from the editor, run headless by the CLI, makes the same Runway request. */
async function runSavedWithCli(savedPath: string, root: string, env: NodeJS.ProcessEnv, emulator: Emulator): Promise<void> {
  const result = await promisify(execFile)(
    process.execPath,
    [cliPath, 'run', savedPath, '--json', '--no-cache', '--input-dir', join(root, 'input'), '--output-dir', join(root, 'cli-output')],
    { env: { ...process.env, ...env }, timeout: 60_000 },
  );
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; data?: Record<string, unknown> });
  expect(lines.some((line) => line.type === 'execution_success'), result.stdout.slice(-2000)).toBe(true);
  const jobs = emulator.jobs();
  expect(jobs).toHaveLength(2);
  const [fromEditor, fromCli] = jobs.map((job) => job.request as unknown as Record<string, unknown>);
  // Compared field by field: promptImage is a long data URI that would drown a diff.
  for (const field of ['model', 'promptText', 'ratio', 'duration', 'seed']) expect(fromCli![field], field).toEqual(fromEditor![field]);
  expect(fromCli!.seed).toBe(1234);
  expect(fromCli!.promptImage === fromEditor!.promptImage).toBe(true);
}
