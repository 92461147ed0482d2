import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { fastPoll, listFiles, makeSandbox, placeWorkflow, readExample, requireBuiltCli, runCli, type Sandbox } from '../../helpers/cli-sandbox.js';
import { freePort } from '../../../src/http/free-port.js';

/**
 * Provider keys come from the environment and must never be written anywhere: not in outputs,
 * the cache, the job journal, temp files, events, logs (--verbose) or error messages.
 */

const KEYS = {
  RUNWAYML_API_SECRET: `key_${'5ec7e7d1'.repeat(16)}`,
  COMETAPI_KEY: 'sk-comet-TOPSECRET-9f8e7d6c5b4a',
  RUNCOMFY_API_TOKEN: 'rc-TOPSECRET-0a1b2c3d4e5f',
};

/** Any recognisable piece of a key counts as a leak, not only the whole key. */
function fragments(): string[] {
  return Object.values(KEYS).flatMap((key) => [key, key.slice(-12), Buffer.from(key).toString('base64').slice(0, 16)]);
}

let emulator: Emulator;
let box: Sandbox;

beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 150 } });
  box = await makeSandbox(emulator.url, KEYS);
});
afterAll(async () => {
  await emulator?.close();
  await box?.cleanup();
});

describe('provider keys', () => {
  it('appear in no file written and nothing printed, on success, failure and listing', async () => {
    const printed: string[] = [];
    const run = async (args: string[]) => {
      const result = await runCli([...args, '--verbose'], box);
      printed.push(result.stdout, result.stderr);
      return result;
    };
    const publicUrl = `http://127.0.0.1:${await freePort()}`;
    for (const example of ['runway-gen4-turbo.json', 'cometapi-gen3a-turbo.json', 'runcomfy-gen4-turbo.json']) {
      const path = await placeWorkflow(box, example, fastPoll(await readExample(example)));
      const result = await run(['run', path, '--output-dir', box.output, '--json', '--public-url', publicUrl]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    }
    // Failures quote provider responses: an auth failure and a provider-side failure must not echo the key.
    emulator.configure({ acceptAnyKey: false, keys: [] });
    const path = await placeWorkflow(box, 'auth.json', fastPoll(await readExample('cometapi-gen3a-turbo.json')));
    const denied = await run(['run', path, '--output-dir', box.output, '--no-cache']);
    expect(denied.code).toBe(1);
    emulator.configure({ acceptAnyKey: true, failJobs: () => true });
    const failing = await placeWorkflow(box, 'failing.json', fastPoll(await readExample('runway-gen4-turbo.json'), 0.05, 60));
    await run(['run', failing, '--output-dir', box.output, '--no-cache', '--json']);
    const listing = await runCli(['jobs', '--json'], box);
    printed.push(listing.stdout, listing.stderr);

    const files = await listFiles(box.root);
    expect(files.some((file) => file.endsWith('.mp4'))).toBe(true);
    expect(files.some((file) => file.endsWith('jobs.jsonl'))).toBe(true);
    const leaks: string[] = [];
    for (const file of files) {
      const content = (await readFile(file)).toString('latin1');
      for (const fragment of fragments()) if (content.includes(fragment)) leaks.push(`${file} contains ${fragment}`);
    }
    for (const text of printed) for (const fragment of fragments()) if (text.includes(fragment)) leaks.push(`output contains ${fragment}`);
    expect(leaks).toEqual([]);
  });
});
