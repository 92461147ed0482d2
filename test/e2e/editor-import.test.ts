import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, openEditorPage, skipReason } from '../helpers/browser.js';
import { type EditorWindow, widgetValue } from '../helpers/editor-actions.js';

/**
 * Issue 6 in the editor: a workflow saved by ComfyUI with its Runway node opens mapped onto
 * ours and runs; node types we lack open as placeholders, named in one status message, and
 * come back unchanged when the graph is saved.
 */

if (!chromiumAvailable) console.warn(skipReason);
const fixtures = new URL('../fixtures/comfyui/', import.meta.url).pathname;
const examples = new URL('../../examples/', import.meta.url).pathname;

interface UiNode {
  id: number;
  type: string;
  title?: string;
  mode?: number;
  widgets_values?: unknown[];
  inputs?: { name: string; link: number | null }[];
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

function pageNodes(page: Page): Promise<{ id: number; type: string; title: string }[]> {
  return page.evaluate(() =>
    (window as unknown as EditorWindow).reelgraph.graph.nodes.map((node) => {
      const n = node as unknown as { id: number; type: string; title: string };
      return { id: n.id, type: n.type, title: n.title };
    }),
  );
}

async function fixture(name: string): Promise<{ bytes: Buffer; json: { nodes: UiNode[] } }> {
  const bytes = await readFile(join(fixtures, name));
  return { bytes, json: JSON.parse(bytes.toString('utf8')) as { nodes: UiNode[] } };
}

describe.skipIf(!chromiumAvailable)('editor: ComfyUI Runway workflows and missing node types', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let root: string;

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\` (npm test does it in pretest)`);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-import-'));
    await mkdir(artifactsDir, { recursive: true });
    // The fixture's LoadImage names sunset.jpg at the top of the input folder.
    await mkdir(join(root, 'input'), { recursive: true });
    await copyFile(join(examples, 'images', 'sunset.jpg'), join(root, 'input', 'sunset.jpg'));
    emulator = await startEmulator({ timing: { queuedMs: 100, runningMs: 300 } });
    const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, cache: false });
    browser = await launchBrowser();
    page = await openEditorPage(browser, server.url, { acceptDownloads: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await emulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('POST /reelgraph/import maps the Runway node onto ours for the chosen provider, and refuses an unknown one', async () => {
    const { json } = await fixture('runway-gen4-i2v.json');
    const post = (query: string): Promise<Response> => fetch(`${server.url}/api/reelgraph/import${query}`, { method: 'POST', body: JSON.stringify(json) });
    const response = await post('?provider=cometapi');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { workflow: { nodes: UiNode[] }; mapped: string[]; unsupported: { id: string; type: string }[] };
    expect(body.mapped).toEqual(['8']);
    // The bypassed ImageScaleBy never runs and the Note is display-only: nothing unsupported.
    expect(body.unsupported).toEqual([]);
    const runway = body.workflow.nodes.find((node) => node.type === 'RunwayI2V')!;
    expect(runway.widgets_values).toContain('cometapi');
    expect(body.workflow.nodes.map((node) => node.type)).toEqual(expect.arrayContaining(['ValidateImage', 'Poll', 'SaveVideo']));
    const refused = await post('?provider=nowhere');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toContain('Unknown provider "nowhere"');
    // The central Host/Origin checks apply to this route like any other POST.
    const crossSite = await fetch(`${server.url}/api/reelgraph/import`, { method: 'POST', body: '{}', headers: { Origin: 'http://evil.example' } });
    expect(crossSite.status).toBe(403);
  });

  it('opens a dropped ComfyUI Runway workflow mapped onto our nodes (provider runway) and runs it to a video preview', async () => {
    const { bytes, json } = await fixture('runway-gen4-i2v.json');
    const source = json.nodes.find((node) => node.type === 'RunwayImageToVideoNodeGen4')!;
    const [prompt, duration, ratio, seed] = source.widgets_values as [string, number, string, number];
    await dropFile(page, bytes, 'runway-gen4-i2v.json', 'application/json');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Imported a ComfyUI workflow'));
    expect(await page.textContent('#status')).toBe(
      'Imported a ComfyUI workflow: 1 Runway node(s) mapped to provider runway. Missing node types: ImageScaleBy — kept as placeholders',
    );
    const nodes = await pageNodes(page);
    expect(nodes.map((node) => node.type).sort()).toEqual(['ImageScaleBy', 'LoadImage', 'Note', 'Poll', 'RunwayI2V', 'SaveVideo', 'ValidateImage']);
    expect(nodes.find((node) => node.type === 'ImageScaleBy')!.title).toBe('ImageScaleBy (missing)');
    // ComfyUI's Note is a node type of ours too (display only), not a placeholder.
    expect(nodes.find((node) => node.type === 'Note')!.title).toBe('Note');
    const runway = nodes.find((node) => node.type === 'RunwayI2V')!.id;
    expect(runway).toBe(8);
    expect(await widgetValue(page, runway, 'provider')).toBe('runway');
    expect(await widgetValue(page, runway, 'model')).toBe('gen4_turbo');
    expect(await widgetValue(page, runway, 'promptText')).toBe(prompt);
    expect(await widgetValue(page, runway, 'ratio')).toBe(ratio);
    expect(await widgetValue(page, runway, 'duration')).toBe(duration);
    expect(await widgetValue(page, runway, 'seed')).toBe(seed);

    // ComfyUI's "randomize" would change the seed after queueing; the run itself uses the fixture's seed.
    await page.click('#graph-canvas', { position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+Enter');
    // Done, Failed, Interrupted, or a validation message (tone "error") instead of the import message.
    await page.waitForFunction(
      () => {
        const status = document.querySelector('#status');
        return /^(Done|Failed|Interrupted)/.test(status?.textContent ?? '') || (status?.getAttribute('data-tone') === 'error' && !status.textContent?.startsWith('Imported'));
      },
      undefined,
      { timeout: 30_000 },
    );
    const states = await page.evaluate(() => [...(window as unknown as EditorWindow).reelgraph.runStates.entries()]);
    expect(await page.textContent('#status'), JSON.stringify(states)).toBe('Done');
    const preview = page.locator('video.node-preview');
    await preview.waitFor({ state: 'visible' });
    await page.waitForFunction(() => (document.querySelector('video.node-preview') as HTMLVideoElement).readyState >= 1);
    expect(await preview.getAttribute('src')).toMatch(/^\/api\/view\?filename=.+\.mp4/);
    expect(emulator.creates('runway')).toBe(1);
    await page.screenshot({ path: join(artifactsDir, 'e2e-import-runway.png') });
  });

  it('keeps unknown nodes as titled placeholders, lists every missing type once, and saves them unchanged', async () => {
    const { bytes, json } = await fixture('mixed-unknown-nodes.json');
    await dropFile(page, bytes, 'mixed-unknown-nodes.json', 'application/json');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.includes('Missing node types'));
    expect(await page.textContent('#status')).toBe(
      'Imported a ComfyUI workflow: 1 Runway node(s) mapped to provider runway. ' +
        'Missing node types: CheckpointLoaderSimple, KSampler, VAEDecode, UpscaleModelLoader — kept as placeholders',
    );
    expect(await page.getAttribute('#status', 'data-tone')).toBe('error');
    const titles = (await pageNodes(page)).filter((node) => node.type === 'KSampler').map((node) => node.title);
    expect(titles).toEqual(['KSampler (missing)']);
    await page.screenshot({ path: join(artifactsDir, 'e2e-import-placeholders.png') });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const savedPath = join(root, 'saved-mixed.json');
    await download.saveAs(savedPath);
    const saved = JSON.parse(await readFile(savedPath, 'utf8')) as { nodes: UiNode[]; links: unknown[][] };
    const unknown = ['CheckpointLoaderSimple', 'KSampler', 'VAEDecode', 'UpscaleModelLoader'];
    const markdown = json.nodes.find((node) => node.type === 'MarkdownNote')!;
    expect(saved.nodes.find((node) => node.id === markdown.id)!.widgets_values).toEqual(markdown.widgets_values);
    for (const type of unknown) {
      const original = json.nodes.find((node) => node.type === type)!;
      const kept = saved.nodes.find((node) => node.id === original.id)!;
      expect(kept.type).toBe(type);
      expect(kept.widgets_values).toEqual(original.widgets_values);
      expect(kept.mode).toBe(original.mode);
      expect(kept.title).toBeUndefined();
    }
    // The links between the unknown nodes survive too (KSampler → VAEDecode, the checkpoint's VAE → VAEDecode).
    expect(saved.links).toEqual(expect.arrayContaining([[2, 2, 0, 3, 0, 'LATENT'], [3, 1, 2, 3, 1, 'VAE']]));
    expect(saved.nodes.find((node) => node.type === 'VAEDecode')!.inputs!.map((input) => input.link)).toEqual([2, 3]);
  });
});
