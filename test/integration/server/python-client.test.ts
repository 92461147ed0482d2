import { execFile } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { ROOT } from '../../helpers/cli-sandbox.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { RUNWAY_KEY, fiveNodePrompt, writeInputImage } from '../../helpers/server-prompts.js';

/**
 * Our own small Python client (test/clients/comfy_client.py: Debian's python3-websocket + urllib), speaking the
 * protocol as ComfyUI's example scripts do, drives `serve` end to end. Debian's python3 is used because that is
 * where apt installs python3-websocket (.ci/run installs it).
 */

const PYTHON = '/usr/bin/python3';
let emulator: Emulator;
let server: TestServer;
beforeAll(async () => {
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 200 } });
  server = await startTestServer({ RUNWAYML_BASE_URL: emulator.url, RUNWAYML_API_SECRET: RUNWAY_KEY });
});
afterAll(async () => {
  await server?.close();
  await emulator?.close();
});

it('the Python client queues a prompt, waits for executing with node null, reads history and fetches the MP4 with /view', async () => {
  const image = await writeInputImage(server.inputDir, 'py.png');
  const promptPath = join(server.root, 'prompt.json');
  await writeFile(promptPath, JSON.stringify(fiveNodePrompt(image, { prefix: 'py/clip' })));
  const out = join(server.root, 'downloads');
  await mkdir(out, { recursive: true });
  const before = emulator.creates();
  const { stdout } = await promisify(execFile)(PYTHON, [join(ROOT, 'test/clients/comfy_client.py'), `127.0.0.1:${server.port}`, promptPath, out], { timeout: 120_000 });
  const summary = JSON.parse(stdout) as { status: string; messages: string[]; saved: { path: string; bytes: number }[] };
  expect(emulator.creates() - before).toBe(1);
  expect(summary.status).toBe('success');
  expect(summary.messages[0]).toBe('status');
  expect(summary.messages).toEqual(expect.arrayContaining(['execution_start', 'executing', 'executed', 'execution_success']));
  expect(summary.saved).toHaveLength(1);
  const bytes = await readFile(summary.saved[0]!.path);
  expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
  expect(bytes.length).toBe(summary.saved[0]!.bytes);
});
