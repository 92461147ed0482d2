import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, openEditorPage, skipReason } from '../helpers/browser.js';
import { writePhonePhoto } from '../helpers/make-photos.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { nodeState, openFileChooser, type EditorWindow } from '../helpers/editor-actions.js';

/**
 * RunComfy from the editor without a tunnel (issue 12): `reelgraph serve --image-host s3://…` (the real
 * CLI) hosts an image uploaded in the editor in a real S3-compatible store on loopback, and the RunComfy
 * workflow runs to a video. Without a host, the error on the RunwayI2V node names the option that fixes it.
 */

if (!chromiumAvailable) console.warn(skipReason);
const cliPath = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const example = new URL('../../examples/runcomfy-gen4-turbo.json', import.meta.url);

interface Served {
  url: string;
  child: ChildProcess;
}

/** `reelgraph serve --port 0 …` as a user starts it; resolves with the URL it prints. */
function serve(args: string[], env: NodeJS.ProcessEnv): Promise<Served> {
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /editor and API at (http:\/\/\S+)/.exec(stderr);
      if (match) resolve({ url: match[1]!, child });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}

async function stop(served: Served | undefined): Promise<void> {
  if (!served || served.child.exitCode !== null) return;
  const exited = new Promise((resolve) => served.child.once('exit', resolve));
  served.child.kill('SIGTERM');
  await exited;
}

/** Opens the RunComfy example (fast polling), then uploads `photo` into LoadImage through its upload button. */
async function openWithUpload(page: Page, photo: string): Promise<void> {
  const workflow = JSON.parse(await readFile(example, 'utf8')) as { nodes: { type: string; widgets_values: unknown[] }[] };
  workflow.nodes.find((node) => node.type === 'Poll')!.widgets_values = [0.2, 120];
  const transfer = await page.evaluateHandle((text) => {
    const data = new DataTransfer();
    data.items.add(new File([text], 'runcomfy-gen4-turbo.json', { type: 'application/json' }));
    return data;
  }, JSON.stringify(workflow));
  await page.dispatchEvent('#graph-canvas', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#graph-canvas', 'drop', { dataTransfer: transfer });
  await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Opened runcomfy-gen4-turbo.json'));
  const chooser = await openFileChooser(page, 1, 'upload');
  await chooser.setFiles(photo);
  await page.waitForFunction(() => (window as unknown as EditorWindow).reelgraph.graph.getNodeById(1)!.widgets[0]!.value === 'phone.jpg');
}

async function runAndWait(page: Page): Promise<string> {
  await page.click('#run');
  await page.waitForFunction(() => /^(Done|Failed|Interrupted)|need attention/.test(document.querySelector('#status')?.textContent ?? ''), undefined, { timeout: 120_000 });
  return (await page.textContent('#status')) ?? '';
}

describe.skipIf(!chromiumAvailable)('RunComfy from the editor through serve --image-host', () => {
  let emulator: Emulator;
  let s3: S3Server;
  let browser: Browser;
  let root: string;
  let photo: string;
  let env: NodeJS.ProcessEnv;
  const servers: Served[] = [];

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-host-'));
    await mkdir(artifactsDir, { recursive: true });
    emulator = await startEmulator({ timing: { queuedMs: 300, runningMs: 600 } });
    s3 = await startS3Server();
    photo = join(root, 'phone.jpg');
    await writePhonePhoto(photo);
    env = {
      PATH: process.env.PATH,
      HOME: root,
      ...emulatorEnv(emulator.url),
      ...s3.env,
      REELGRAPH_STATE_DIR: join(root, 'state'),
      REELGRAPH_CACHE_DIR: join(root, 'cache'),
    };
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const served of servers) await stop(served);
    await emulator?.close();
    await s3?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('runs a RunComfy workflow with an uploaded phone photo to a video', async () => {
    const served = await serve(['--image-host', `s3://${s3.bucket}/editor`, '--input-dir', join(root, 'in'), '--output-dir', join(root, 'out')], env);
    servers.push(served);
    const page = await openEditorPage(browser, served.url);
    await openWithUpload(page, photo);
    expect(await runAndWait(page)).toBe('Done');
    await page.locator('video.node-preview').waitFor({ state: 'visible' });
    await page.screenshot({ path: join(artifactsDir, 'e2e-runcomfy-image-host.png') });
    expect(emulator.creates('runcomfy')).toBe(1);
    expect(emulator.jobs()[0]!.request.promptImage).toContain(`/${s3.bucket}/editor/`);
    expect(await s3.keys('editor/')).toHaveLength(1);
    await page.close();
  }, 180_000);

  it('without a host, the error on RunwayI2V names --image-host, and nothing is created', async () => {
    emulator.reset();
    const served = await serve(['--input-dir', join(root, 'in2'), '--output-dir', join(root, 'out2')], env);
    servers.push(served);
    const page = await openEditorPage(browser, served.url);
    await openWithUpload(page, photo);
    expect(await runAndWait(page)).toMatch(/need attention/);
    const state = await nodeState(page, 3);
    expect(state?.state).toBe('error');
    expect(state?.errors?.join(' ')).toMatch(/--image-host s3:\/\/bucket\/prefix/);
    expect(emulator.creates()).toBe(0);
    await page.close();
  }, 120_000);
});
