import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { artifactsDir, chromiumAvailable, editorBuilt, editorDir, launchBrowser, skipReason } from '../helpers/browser.js';
import { type EditorWindow, typeIntoWidget, idOf, waitForPlayingVideo } from '../helpers/editor-actions.js';
import { watchPage } from './page-watch.js';

/**
 * Issue 13, points 8 and 9: the cost badge shows the run's real plan (jobs re-attached at $0.00, jobs whose outcome is
 * unknown), and a job whose create got no clear answer is submitted again only when the user says so, after a warning.
 */

if (!chromiumAvailable) console.warn(skipReason);

function badge(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector('#estimate')?.textContent ?? '');
}

function waitForStatus(page: Page, pattern: RegExp): Promise<unknown> {
  return page.waitForFunction((source) => new RegExp(source).test(document.querySelector('#status')?.textContent ?? ''), pattern.source, { timeout: 60_000 });
}

async function waitForBadge(page: Page, pattern: RegExp): Promise<void> {
  try {
    await page.waitForFunction((source) => new RegExp(source).test(document.querySelector('#estimate')?.textContent ?? ''), pattern.source, { timeout: 15_000 });
  } catch {
    // Said in the failure: what the badge showed instead.
    throw new Error(`the badge never matched ${String(pattern)}; it shows "${await badge(page)}" (${await page.getAttribute('#estimate', 'title')})`);
  }
}

describe.skipIf(!chromiumAvailable)('editor: the plan behind the cost badge, and jobs whose outcome is unknown', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let root: string;
  let watch: { problems: string[] };

  beforeAll(async () => {
    if (!editorBuilt) throw new Error(`${editorDir} is missing: run \`npm run build:editor\``);
    root = await mkdtemp(join(tmpdir(), 'reelgraph-e2e-plan-'));
    await mkdir(artifactsDir, { recursive: true });
    emulator = await startEmulator({ timing: { queuedMs: 300, runningMs: 4000 } });
    const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
    server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, emulatorUrl: emulator.url });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    watch = watchPage(page);
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    await waitForBadge(page, /^≈ \$0\.25 · 25 credits · 1 job$/);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await emulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('a 500 on the create: the node says so, tells what to check, and submits again only after a confirmation', async () => {
    // The provider makes the job, then answers 500: whether a job exists cannot be known from here.
    emulator.setFaults({ rules: [{ provider: 'runway', kind: 'create', nth: 1, action: { type: 'status', status: 500, afterCommit: true } }] });
    await page.click('#run');
    await waitForStatus(page, /^Failed:/);
    expect(emulator.creates()).toBe(1);
    const box = page.locator('.unknown-job');
    await box.waitFor({ state: 'visible' });
    // The badge names the unknown outcome, with no price for it: a Run would not submit.
    await waitForBadge(page, /outcome unknown/);
    expect(await badge(page)).toBe('1 job: outcome unknown — will not submit until you decide');
    expect(await box.locator('.unknown-sentence').textContent()).toMatch(/^Runway API may already have this job: .+\.$/);
    expect(await box.locator('summary').textContent()).toBe('Check the provider');
    expect(await box.locator('.unknown-check p').textContent()).toMatch(/gen4_turbo 5 s image-to-video task created around .+\(\d{4}-\d\d-\d\dT/);
    await page.screenshot({ path: join(artifactsDir, 'e2e-unknown-outcome.png') });

    // Run as it is: refused again, nothing created.
    await page.click('#run');
    await waitForStatus(page, /^Failed:/);
    expect(emulator.creates()).toBe(1);

    // The button asks first; dismissing it changes nothing.
    await page.click('.unknown-job .unknown-submit');
    const dialog = page.locator('dialog.unknown-confirm');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toMatch(/may pay twice.*\$0\.25/);
    await page.screenshot({ path: join(artifactsDir, 'e2e-submit-again-confirm.png') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForTimeout(1500);
    expect(emulator.creates()).toBe(1);
    expect(await badge(page)).toContain('outcome unknown');
    await box.waitFor({ state: 'visible' });

    // Confirmed: exactly one more create, and its video plays.
    await page.click('.unknown-job .unknown-submit');
    await dialog.waitFor({ state: 'visible' });
    await dialog.getByRole('button', { name: /^Submit again/ }).click();
    await waitForStatus(page, /^Done$/);
    expect(emulator.creates()).toBe(2);
    await waitForPlayingVideo(page);
    await box.waitFor({ state: 'detached' });
    await waitForBadge(page, /^≈ \$0\.00 · 0 jobs$/);
    await page.screenshot({ path: join(artifactsDir, 'e2e-submitted-again.png') });
  });

  it('after Stop while the job is at the provider, the badge says it re-attaches at $0.00 and Run creates nothing new', async () => {
    // CometAPI documents no cancel, so a stopped job stays at the provider (Runway's is cancelled by Stop, and the
    // next run rightly plans a new paid job: the keyboard test checks that the badge matches it wherever Stop lands).
    page.once('dialog', (dialog) => void dialog.accept());
    await page.selectOption('#examples', 'cometapi-gen3a-turbo.json');
    await waitForBadge(page, /^≈ \$\d+\.\d\d( · \d+ credits)? · 1 job$/);
    const before = emulator.creates();
    await page.click('#run');
    await page.waitForFunction(() => {
      const { graph, runStates } = (window as unknown as EditorWindow).reelgraph;
      const poll = (graph.nodes as unknown as { id: number; type: string }[]).find((node) => node.type === 'Poll');
      return poll !== undefined && runStates.get(String(poll.id))?.state === 'running';
    }, undefined, { timeout: 30_000 });
    await page.click('#stop');
    await waitForStatus(page, /^Stopped$/);
    expect(emulator.creates()).toBe(before + 1);
    await waitForBadge(page, /re-attaches/);
    expect(await badge(page)).toBe('1 job re-attaches at $0.00');
    await page.screenshot({ path: join(artifactsDir, 'e2e-stopped-reattach.png') });
    await page.click('#run');
    await waitForStatus(page, /^Done$/);
    expect(emulator.creates()).toBe(before + 1);
    await waitForPlayingVideo(page);
    expect(watch.problems).toEqual([]);
  });
});
