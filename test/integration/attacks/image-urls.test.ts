import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectRefused, openSandbox, type Sandbox } from './harness.js';
import { exampleWorkflow, nodeOfType, writeWorkflow } from './workflows.js';

/** LoadImage URLs as a port scanner: refused before any request is made, unless --allow-private-urls. */

let box: Sandbox;
let images: Server;
let hits = 0;
let base: string;
beforeAll(async () => {
  box = await openSandbox();
  const png = await readFile(resolve('examples/images/sunset.jpg'));
  images = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': png.length }).end(png);
  });
  await new Promise<void>((ready) => images.listen(0, '127.0.0.1', ready));
  base = `127.0.0.1:${(images.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((done) => images?.close(done));
  await box?.close();
});
beforeEach(() => {
  box.emulator.reset();
  hits = 0;
});

async function workflowWithUrl(name: string, url: string): Promise<string> {
  const workflow = await exampleWorkflow();
  nodeOfType(workflow, 'LoadImage').widgets_values[0] = url;
  return writeWorkflow(join(box.work, name), 'wf', workflow);
}

describe('LoadImage URL attacks (validate and run refuse, no request made, 0 creates)', () => {
  const port = () => base.split(':')[1];
  it.each([
    ['loopback', () => `http://${base}/a.jpg`],
    ['loopback-https', () => `https://${base}/a.jpg`],
    ['decimal', () => `https://2130706433:${port()}/a.jpg`],
    ['hex', () => `https://0x7f000001:${port()}/a.jpg`],
    ['octal', () => `https://0177.0.0.1:${port()}/a.jpg`],
    ['short', () => `https://127.1:${port()}/a.jpg`],
    ['metadata', () => 'https://169.254.169.254/latest/meta-data/'],
    ['private-10', () => 'https://10.1.2.3/a.jpg'],
    ['ipv6-loopback', () => `https://[::1]:${port()}/a.jpg`],
    ['ipv4-mapped', () => `https://[::ffff:127.0.0.1]:${port()}/a.jpg`],
    ['link-local-v6', () => 'https://[fe80::1]/a.jpg'],
    ['localhost', () => `https://localhost:${port()}/a.jpg`],
    ['plain-http', () => 'http://example.com/a.jpg'],
  ])('%s', async (name, url) => {
    const file = await workflowWithUrl(name, url());
    for (const args of [['validate', file], ['run', file, '--output-dir', join(box.work, 'out')]]) {
      const result = await box.cli(args);
      expectRefused(result, /image URL/);
      expect(result.stderr).not.toMatch(/ECONNREFUSED|answered|HTTP \d/);
    }
    expect(hits).toBe(0);
    expect(box.emulator.creates()).toBe(0);
  });

  it('--allow-private-urls lets a test or intranet image server through', async () => {
    const file = await workflowWithUrl('allowed', `http://${base}/a.jpg`);
    const result = await box.cli(['validate', file, '--allow-private-urls']);
    expect([result.code, result.stderr]).toEqual([0, 'Valid: no problems found.\n']);
  });
});
