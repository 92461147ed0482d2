import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Chromium for browser tests: the system build, headless, with nothing that calls home. */

export const CHROMIUM_PATH = '/usr/bin/chromium';
// In CI a missing browser is a failure, not a skip: `.ci/run` installs it.
export const chromiumAvailable = existsSync(CHROMIUM_PATH) || process.env.CI === 'true';
export const skipReason = `browser tests skipped: ${CHROMIUM_PATH} is missing (install it with: apt-get install -y chromium)`;

export const editorDir = fileURLToPath(new URL('../../dist-editor/', import.meta.url));
export const editorBuilt = existsSync(`${editorDir}index.html`);
export const artifactsDir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A 1600×900 page on the editor at `url`, once it says it is ready, emptied unless `keepDefault`;
 * its confirm dialogs are accepted unless `answerDialogs: false` (the test answers them itself). `beforeLoad` runs before the
 * page opens (to listen for websocket frames, say); page errors are printed.
 */
export async function openEditorPage(browser: Browser, url: string, options: { acceptDownloads?: boolean; beforeLoad?: (page: Page) => void; keepDefault?: boolean; answerDialogs?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, acceptDownloads: options.acceptDownloads ?? false });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  options.beforeLoad?.(page);
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  // A fresh editor opens the default workflow; tests that build their own graph start empty, as a user would (Clear, confirmed).
  if (!options.keepDefault) {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#clear');
    await page.waitForFunction(() => (window as unknown as { reelgraph: { graph: { nodes: unknown[] } } }).reelgraph.graph.nodes.length === 0);
    page.removeAllListeners('dialog');
  }
  // Opening a file over unsaved work asks first; tests that do not check that question say yes, as a user would.
  if (options.answerDialogs !== false) page.on('dialog', (dialog) => void dialog.accept());
  return page;
}
