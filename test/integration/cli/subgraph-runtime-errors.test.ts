import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { makeSandbox, placeWorkflow, requireBuiltCli, runCli, ROOT } from '../../helpers/cli-sandbox.js';
import { startServe } from '../../e2e/serve-cli.js';

/**
 * A task that fails inside a nested subgraph is named by its subgraph path, as validation errors are, never by
 * the flattened execution id ("10:5:…"): in `reelgraph run`'s stderr, and in `serve`'s execution_error and history.
 * The fixture's ComfyUI Runway node (node 7 of "Runway call", inside "Animate") is mapped onto RunwayI2V and a
 * Poll; the emulator fails every task whose prompt contains "[fail]", which the Poll reports.
 */

type Json = Record<string, unknown>;

let emulator: Emulator;
beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ port: 0, timing: { queuedMs: 50, runningMs: 150 } });
});
afterAll(() => emulator.close());

const PATH = 'subgraph "Animate" › subgraph "Runway call" › node 7 (Poll): ';

/** The nested-subgraph fixture with the instance's promoted prompt asking the emulator to fail the task. */
async function failingNested(): Promise<Json> {
  const doc = JSON.parse(await readFile(join(ROOT, 'test/fixtures/comfyui/runway-nested-subgraph.v1.json'), 'utf8')) as Json;
  const instance = (doc.nodes as Json[]).find((node) => node.id === 10)!;
  instance.widgets_values = ['A paper boat drifts down a gutter [fail]'];
  return doc;
}

describe('runtime errors inside subgraphs name the subgraph path', () => {
  it('`reelgraph run`: the failed task reads subgraph "Animate" › subgraph "Runway call" › node 7 (Poll)', async () => {
    const box = await makeSandbox(emulator.url);
    try {
      const file = await placeWorkflow(box, 'nested-fail.json', JSON.stringify(await failingNested()));
      const before = emulator.creates();
      const result = await runCli(['run', file, '--output-dir', box.output], box);
      expect(result.code).toBe(1);
      expect(emulator.creates() - before).toBe(1);
      expect(result.stderr).toContain(`Failed: ${PATH}runway task `);
      expect(result.stderr).not.toMatch(/Node "10:5:/);
    } finally {
      await box.cleanup();
    }
  });

  it('`serve`: execution_error and /history carry the same path for a UI workflow posted as the prompt', async () => {
    const box = await makeSandbox(emulator.url);
    const serve = await startServe(['--input-dir', box.work, '--output-dir', box.output], box.env, box.work);
    try {
      await placeWorkflow(box, 'unused.json', '{}');
      const before = emulator.creates();
      const posted = await fetch(`${serve.url}/prompt`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prompt: await failingNested() }),
      });
      expect(posted.status).toBe(200);
      const { prompt_id: promptId } = (await posted.json()) as { prompt_id: string };
      let entry: { status?: { status_str: string; messages: [string, Json][] } } | undefined;
      for (let attempt = 0; attempt < 600 && !entry?.status; attempt++) {
        entry = ((await (await fetch(`${serve.url}/history/${promptId}`)).json()) as Record<string, typeof entry>)[promptId];
        if (!entry?.status) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(entry?.status?.status_str).toBe('error');
      expect(emulator.creates() - before).toBe(1);
      const error = entry!.status!.messages.find(([type]) => type === 'execution_error')![1];
      expect(String(error.exception_message)).toMatch(new RegExp(`^${PATH.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}runway task `));
      // The id stays ComfyUI's execution id, which clients use to find the node.
      expect(String(error.node_id)).not.toBe('');
    } finally {
      await serve.stop();
      await box.cleanup();
    }
  });
});
