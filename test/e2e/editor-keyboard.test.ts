import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, skipReason } from '../helpers/browser.js';
import { type EditorWindow, typeIntoWidget, idOf } from '../helpers/editor-actions.js';
import { watchPage } from './page-watch.js';

/** Issue 13, points 9 and 10: errors a person can act on, Stop, keyboard help and a 1024 px window. */

if (!chromiumAvailable) console.warn(skipReason);

function busyNodes(page: Page): Promise<string[]> {
  return page.evaluate(() => [...(window as unknown as EditorWindow).reelgraph.runStates].filter(([, state]) => state.state === 'running' || state.state === 'queued').map(([id]) => id));
}

describe.skipIf(!chromiumAvailable)('editor: errors, Stop, keyboard and small screens', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let root: string;
  let watch: { problems: string[] };

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-keys-'));
    await mkdir(artifactsDir, { recursive: true });
    emulator = await startEmulator({ timing: { queuedMs: 300, runningMs: 4000 } });
    const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, cache: false, emulatorUrl: emulator.url });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    watch = watchPage(page);
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await emulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('fits the toolbar in a 1024 px window, on one line, every control labelled', async () => {
    const layout = await page.evaluate(() => {
      const toolbar = document.querySelector('#toolbar')!;
      const visible = [...toolbar.children].filter((child) => !(child as HTMLElement).hidden && (child as HTMLElement).offsetParent !== null);
      return {
        height: toolbar.getBoundingClientRect().height,
        rightmost: Math.max(...visible.map((child) => child.getBoundingClientRect().right)),
        unlabelled: [...toolbar.querySelectorAll('button, select')].filter((control) => !(control.getAttribute('aria-label') || control.textContent?.trim())).map((control) => control.id),
        live: document.querySelector('#status')?.getAttribute('aria-live'),
        examplesLabel: document.querySelector('#examples')?.getAttribute('aria-label'),
      };
    });
    expect(layout.height).toBeLessThanOrEqual(48);
    expect(layout.rightmost).toBeLessThanOrEqual(1024);
    expect(layout.unlabelled).toEqual([]);
    expect(layout.live).toBe('polite');
    expect(layout.examplesLabel).toBeTruthy();
    await page.screenshot({ path: join(artifactsDir, 'e2e-1024.png') });
  });

  it('opens the shortcuts help with ? and closes it with Escape', async () => {
    await page.locator('#graph-canvas').click({ position: { x: 500, y: 600 } });
    await page.keyboard.press('?');
    await page.waitForSelector('#help', { state: 'visible' });
    expect(await page.textContent('#help')).toContain('Ctrl + B');
    await page.screenshot({ path: join(artifactsDir, 'e2e-help.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#help', { state: 'hidden' });
  });

  it('Stop leaves no node looking busy', async () => {
    await page.click('#run');
    // Wherever Stop lands (before the create, during it, while the job is at the provider), the next test's badge
    // must say what the next Run does.
    await page.waitForFunction(() => [...(window as unknown as EditorWindow).reelgraph.runStates.values()].some((state) => state.state === 'running'));
    await page.click('#stop');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Stopped', undefined, { timeout: 30_000 });
    expect(await busyNodes(page)).toEqual([]);
    await page.screenshot({ path: join(artifactsDir, 'e2e-stopped.png') });
  });

  it('after Stop, the cost badge shows the jobs the next Run really creates', async () => {
    // The badge asks for the plan again after a run ends (debounced 500 ms); wait for that answer.
    const answered = page.waitForResponse((response) => response.url().endsWith('/api/reelgraph/estimate'), { timeout: 10_000 });
    await page.evaluate(() => (window as unknown as { reelgraph: { undo: { checkpoint(): void } } }).reelgraph.undo.checkpoint());
    await answered.catch(() => undefined);
    await page.waitForTimeout(300);
    const badge = (await page.textContent('#estimate'))!;
    // "≈ $0.25 · 25 credits · 1 job" plans paid creates; "1 job re-attaches at $0.00" and "1 job: outcome unknown — …"
    // plan none (Stop cancels a Runway job at the provider, so a Stop during Poll plans a new one).
    expect(badge).toMatch(/^(≈ \$\d+\.\d\d( · \d+ credits)? · \d+ jobs?|1 job re-attaches at \$0\.00|1 job: outcome unknown — will not submit until you decide)$/);
    const planned = Number(/^≈ [^·]+(?: · \d+ credits)? · (\d+) jobs?$/.exec(badge)?.[1] ?? 0);
    const before = emulator.creates();
    await page.click('#run');
    await page.waitForFunction(() => /^(Done|Failed)/.test(document.querySelector('#status')?.textContent ?? ''), undefined, { timeout: 60_000 });
    expect({ badge, created: emulator.creates() - before }).toEqual({ badge, created: planned });
  });

  it('says what failed in one sentence on the node, with the full message behind Details', async () => {
    // The emulator fails the job when the prompt asks it to (its documented test switch).
    await typeIntoWidget(page, await idOf(page, 'RunwayI2V'), 'promptText', 'Waves at dusk [fail]');
    await page.locator('#graph-canvas').click({ position: { x: 500, y: 650 } });
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Failed:'), undefined, { timeout: 60_000 });
    const status = (await page.textContent('#status'))!;
    expect(status.length).toBeLessThanOrEqual(200);
    const details = page.locator('#error-details');
    await details.waitFor({ state: 'visible' });
    expect(await details.locator('pre').isVisible()).toBe(false);
    await details.locator('summary').click();
    expect((await details.locator('pre').textContent())!.length).toBeGreaterThan(0);
    expect(await busyNodes(page)).toEqual([]);
    await page.screenshot({ path: join(artifactsDir, 'e2e-error.png') });
    expect(watch.problems).toEqual([]);
  });
});
