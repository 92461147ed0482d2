import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { embedWorkflowMetadata, readWorkflowMetadata } from '../../src/sharing/provenance.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, openEditorPage, skipReason } from '../helpers/browser.js';
import { makeMp4 } from '../helpers/mp4.js';
import { chooseInCombo, type EditorWindow, widgetValue } from '../helpers/editor-actions.js';

/**
 * Videos made by SaveVideo open in the editor (their embedded workflow), and the toolbar
 * shows the dry-run estimate of the graph before Run.
 */

if (!chromiumAvailable) console.warn(skipReason);
const cliPath = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const examples = new URL('../../examples/', import.meta.url).pathname;
const TYPES = ['LoadImage', 'ValidateImage', 'RunwayI2V', 'Poll', 'SaveVideo'];

interface UiWorkflow {
  nodes: { id: number; type: string; widgets_values: unknown[] }[];
}

/** The example with its own prompt, ratio and seed, so the restored values cannot come from anywhere else. */
async function writeWorkflow(root: string): Promise<{ path: string; prompt: string; ratio: string; seed: number }> {
  const workflow = JSON.parse(await readFile(join(examples, 'runway-gen4-turbo.json'), 'utf8')) as UiWorkflow;
  const runway = workflow.nodes.find((node) => node.type === 'RunwayI2V')!;
  const [prompt, ratio, seed] = ['A lighthouse beam sweeps through the fog, slow push in', '960:960', 777];
  runway.widgets_values.splice(2, 4, prompt, ratio, 5, seed);
  const path = join(root, 'lighthouse.json');
  await writeFile(path, JSON.stringify(workflow));
  return { path, prompt, ratio, seed };
}

/** Drops a file onto the canvas the way a browser does: dragover, then drop with a DataTransfer. */
async function dropFile(page: Page, bytes: Buffer, name: string, type: string): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ base64, name, type }) => {
      const data = new DataTransfer();
      const raw = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
      data.items.add(new File([raw], name, { type }));
      return data;
    },
    { base64: bytes.toString('base64'), name, type },
  );
  await page.dispatchEvent('#graph-canvas', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#graph-canvas', 'drop', { dataTransfer: transfer });
}

function nodeTypes(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.map((node) => (node as unknown as { type: string }).type).sort());
}

function runwayId(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.find((node) => (node as unknown as { type: string }).type === 'RunwayI2V')!.id);
}

describe.skipIf(!chromiumAvailable)('editor: videos and estimates in Chromium', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let root: string;
  let video: Buffer;
  let expected: Awaited<ReturnType<typeof writeWorkflow>>;

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\` (npm test does it in pretest)`);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-video-'));
    await mkdir(artifactsDir, { recursive: true });
    // The example's image, where the server validates the restored graph for its estimate.
    await mkdir(join(root, 'input', 'images'), { recursive: true });
    await copyFile(join(examples, 'images', 'sunset.jpg'), join(root, 'input', 'images', 'sunset.jpg'));
    emulator = await startEmulator({ timing: { queuedMs: 100, runningMs: 300 } });
    const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'server-cache') };
    server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, cache: false });
    expected = await writeWorkflow(root);
    video = await runCli(expected.path, root, env);
    browser = await launchBrowser();
    page = await openEditorPage(browser, server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await emulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('restores the graph embedded in an MP4 that SaveVideo wrote, when the video is dropped on the page', async () => {
    await dropFile(page, video, 'lighthouse.mp4', 'video/mp4');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Opened lighthouse.mp4');
    expect(await nodeTypes(page)).toEqual([...TYPES].sort());
    const runway = await runwayId(page);
    expect(await widgetValue(page, runway, 'promptText')).toBe(expected.prompt);
    expect(await widgetValue(page, runway, 'ratio')).toBe(expected.ratio);
    expect(await widgetValue(page, runway, 'seed')).toBe(expected.seed);
    expect(await page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.links.size)).toBe(4);
    await page.screenshot({ path: join(artifactsDir, 'e2e-video-dropped.png') });
  });

  it('shows the dry-run estimate in the toolbar and the Run tooltip, and follows a duration change', async () => {
    // The graph restored by the previous test: one gen4_turbo job of 5 s at Runway's 5 credits/s.
    await page.waitForFunction(() => document.querySelector('#estimate')?.textContent === '≈ $0.25 · 25 credits · 1 job');
    expect(await page.getAttribute('#run', 'title')).toContain('≈ $0.25 · 25 credits · 1 job');
    await chooseInCombo(page, await runwayId(page), 'duration', '10');
    await page.waitForFunction(() => document.querySelector('#estimate')?.textContent === '≈ $0.50 · 50 credits · 1 job');
    expect(await page.getAttribute('#run', 'title')).toContain('≈ $0.50 · 50 credits · 1 job');
    expect(emulator.creates('runway')).toBe(1);
    await page.screenshot({ path: join(artifactsDir, 'e2e-estimate.png'), clip: { x: 0, y: 0, width: 1600, height: 60 } });
  });

  it('lays out the API prompt of a video that carries no UI workflow', async () => {
    const { prompt } = await readWorkflowMetadata(await saveTemp(root, 'full.mp4', video));
    const file = join(root, 'prompt-only.mp4');
    await makeMp4(file);
    await embedWorkflowMetadata(file, { prompt });
    await dropFile(page, await readFile(file), 'prompt-only.mp4', '');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Opened prompt-only.mp4');
    expect(await nodeTypes(page)).toEqual([...TYPES].sort());
    expect(await widgetValue(page, await runwayId(page), 'promptText')).toBe(expected.prompt);
  });

  it('says so when a video has no embedded workflow, and keeps the graph', async () => {
    const file = join(root, 'plain.mp4');
    await makeMp4(file);
    await dropFile(page, await readFile(file), 'plain.mp4', 'video/mp4');
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-tone') === 'error');
    expect(await page.textContent('#status')).toBe('plain.mp4 has no embedded workflow (no "workflow" or "prompt" metadata).');
    expect(await nodeTypes(page)).toEqual([...TYPES].sort());
  });
});

async function saveTemp(root: string, name: string, bytes: Buffer): Promise<string> {
  const path = join(root, name);
  await writeFile(path, bytes);
  return path;
}

/** Runs the workflow headless against the emulator and returns the MP4 SaveVideo wrote (with its metadata). */
async function runCli(workflowPath: string, root: string, env: Record<string, string>): Promise<Buffer> {
  const outputDir = join(root, 'cli-output');
  const cliEnv = { ...process.env, ...env, REELGRAPH_CACHE_DIR: join(root, 'cli-cache') };
  const args = [cliPath, 'run', workflowPath, '--json', '--no-cache', '--input-dir', examples, '--output-dir', outputDir];
  const result = await promisify(execFile)(process.execPath, args, { env: cliEnv, timeout: 60_000 });
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; data: { output?: { videos?: { filename: string; subfolder: string }[] } } });
  const saved = lines.find((line) => line.type === 'executed' && line.data.output?.videos)?.data.output?.videos?.[0];
  if (!saved) throw new Error(`the CLI saved no video:\n${result.stdout.slice(-2000)}`);
  return readFile(join(outputDir, saved.subfolder, saved.filename));
}
