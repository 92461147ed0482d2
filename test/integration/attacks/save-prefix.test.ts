import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectRefused, openSandbox, type Sandbox } from './harness.js';
import { exampleWorkflow, nodeOfType, writeWorkflow } from './workflows.js';

/** A filename_prefix SaveVideo would refuse is refused by validate, before anything is paid for. */

let box: Sandbox;
beforeAll(async () => {
  box = await openSandbox();
});
afterAll(async () => box?.close());
beforeEach(() => box.emulator.reset());

describe('filename_prefix attacks (validate and run refuse, 0 creates, nothing outside)', () => {
  const prefixes: [string, (root: string) => string, RegExp][] = [
    ['dotdot', () => '../escape/video', /must stay inside the output folder/],
    ['deep-dotdot', () => 'a/../../../escape', /must stay inside the output folder/],
    ['absolute', (root) => join(root, 'abs', 'video'), /must stay inside the output folder/],
    ['backslash-dotdot', () => '..\\escape\\video', /must stay inside the output folder/],
    ['long-name', () => `v${'x'.repeat(300)}`, /at most 200 bytes/],
    ['long-total', () => Array.from({ length: 60 }, () => 'abcdefghijklmnopqrst').join('/'), /at most 1024 bytes/],
    ['control-char', () => 'video\nname', /control characters/],
    ['empty-name', () => 'folder/', /must end with a file name/],
    ['symlinked-folder', () => 'link/video', /through a symlink/],
  ];

  it.each(prefixes)('%s', async (name, prefix, message) => {
    const folder = join(box.work, name);
    const out = join(folder, 'out');
    await mkdir(out, { recursive: true });
    await mkdir(join(box.root, 'outside'), { recursive: true });
    if (name === 'symlinked-folder') await symlink(join(box.root, 'outside'), join(out, 'link'));
    const workflow = await exampleWorkflow();
    nodeOfType(workflow, 'SaveVideo').widgets_values[0] = prefix(box.root);
    const file = await writeWorkflow(folder, name, workflow);
    const before = await box.listing();
    for (const args of [['validate', file, '--output-dir', out], ['run', file, '--output-dir', out]]) {
      const result = await box.cli(args);
      expectRefused(result, message);
      expect(result.stderr).toMatch(/SaveVideo/);
    }
    expect(await box.listing()).toEqual(before);
    expect(existsSync(join(box.root, 'escape'))).toBe(false);
    expect(existsSync(join(box.root, 'abs'))).toBe(false);
    expect(box.emulator.creates()).toBe(0);
  });
});
