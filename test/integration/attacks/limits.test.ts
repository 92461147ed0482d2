import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, openSandbox, type Sandbox } from './harness.js';
import { writeWorkflow } from './workflows.js';

/** Resource attacks on the CLI: thousands of images to validate, and output piped to a slow reader. */

let box: Sandbox;
beforeAll(async () => {
  box = await openSandbox();
});
afterAll(async () => box?.close());

function prompt(count: number, image: (i: number) => string): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) nodes[String(i + 1)] = { class_type: 'LoadImage', inputs: { image: image(i) } };
  return nodes;
}

/** Runs the CLI under a shell with `ulimit -n`, reading stdout only after `delayMs` and then slowly. */
function slowRead(args: string[], options: { nofile?: number; delayMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('sh', ['-c', `${options.nofile ? `ulimit -n ${options.nofile}; ` : ''}exec ${quoted}`], { cwd: box.work, env: box.env });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdout.pause();
  setTimeout(() => {
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      // A slow consumer: stop after each chunk for a moment.
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 2);
    });
    child.stdout.resume();
  }, options.delayMs ?? 0);
  return new Promise((done) => {
    child.on('close', (code) => done({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

describe('resource limits', () => {
  it('validates 1,500 LoadImages under ulimit -n 256 without EMFILE', async () => {
    const file = await writeWorkflow(join(box.work, 'many'), 'wf', prompt(1500, () => 'images/sunset.jpg'));
    const result = await slowRead(['validate', file, '--json'], { nofile: 256 });
    expect(result.stdout + result.stderr).not.toMatch(/EMFILE|too many open files/i);
    const json = JSON.parse(result.stdout) as { node_errors?: Record<string, unknown> };
    expect(Object.keys(json.node_errors ?? {})).toHaveLength(0);
  });

  it('validate --json piped to a slow reader delivers every byte (about 0.9 MB, far past the 64 KB pipe buffer) before exiting', async () => {
    const file = await writeWorkflow(join(box.work, 'big'), 'wf', prompt(3_000, (i) => `images/missing-${i}-${'x'.repeat(400)}.png`));
    const result = await slowRead(['validate', file, '--json'], { delayMs: 1500 });
    expect(result.code).toBe(2);
    expect(result.stdout.length).toBeGreaterThan(500_000);
    const json = JSON.parse(result.stdout) as { node_errors: Record<string, unknown> };
    expect(Object.keys(json.node_errors)).toHaveLength(3_000);
  });
});
