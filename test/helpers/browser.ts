import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Chromium for browser tests: the system build, headless, with nothing that calls home. */

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM_PATH);
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
