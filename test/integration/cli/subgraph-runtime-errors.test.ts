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
  // A "[slow]" job runs far longer than any Poll timeout below.
  emulator = await startEmulator({ port: 0, timing: { queuedMs: 50, runningMs: 150 }, slowMultiplier: 400 });
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

/**
 * Our own five nodes with the provider part in a nested subgraph: "Animate" holds instance 5 of "Render", which
 * holds ValidateImage 2 → RunwayI2V 3 → Poll 7 (timeout_s 1, the documented minimum).
 */
function ownNodesNested(prompt: string): Json {
  const link = (id: number, originId: number, originSlot: number, targetId: number, targetSlot: number, type: string) =>
    ({ id, origin_id: originId, origin_slot: originSlot, target_id: targetId, target_slot: targetSlot, type });
  const io = { inputNode: { id: -10, bounding: [0, 0, 120, 60] }, outputNode: { id: -20, bounding: [900, 0, 120, 60] } };
  const definition = (id: string, name: string, nodes: Json[], links: Json[]) => ({
    id, version: 1, name, revision: 0, state: { lastGroupId: 0, lastNodeId: 7, lastLinkId: 4, lastRerouteId: 0 }, config: {}, extra: {},
    groups: [], reroutes: [], ...io, widgets: [], nodes, links,
    inputs: [{ id: `${id.slice(0, 8)}-in`, name: 'image', type: 'IMAGE', linkIds: [1] }],
    outputs: [{ id: `${id.slice(0, 8)}-out`, name: 'VIDEO', type: 'VIDEO', linkIds: [9] }],
  });
  const node = (id: number, type: string, inputs: [string, string, number][], outputs: [string, string, number][], widgets: unknown[]) => ({
    id, type, pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, properties: {}, widgets_values: widgets,
    inputs: inputs.map(([name, t, l]) => ({ name, type: t, link: l })), outputs: outputs.map(([name, t, l]) => ({ name, type: t, links: [l] })),
  });
  const ANIMATE = 'a0000000-0000-4000-8000-00000000000a';
  const RENDER = 'b0000000-0000-4000-8000-00000000000b';
  return {
    id: 'c0000000-0000-4000-8000-00000000000c', revision: 0, version: 1,
    state: { lastGroupId: 0, lastNodeId: 12, lastLinkId: 2, lastRerouteId: 0 },
    nodes: [
      node(1, 'LoadImage', [], [['IMAGE', 'IMAGE', 1]], ['images/sunset.jpg', 'image']),
      node(10, ANIMATE, [['image', 'IMAGE', 1]], [['VIDEO', 'VIDEO', 2]], []),
      node(12, 'SaveVideo', [['video', 'VIDEO', 2]], [], ['video/timeout', 'auto', 'auto']),
    ],
    links: [link(1, 1, 0, 10, 0, 'IMAGE'), link(2, 10, 0, 12, 0, 'VIDEO')],
    groups: [], config: {}, extra: {},
    definitions: {
      subgraphs: [
        definition(ANIMATE, 'Animate', [node(5, RENDER, [['image', 'IMAGE', 1]], [['VIDEO', 'VIDEO', 9]], [])], [link(1, -10, 0, 5, 0, 'IMAGE'), link(9, 5, 0, -20, 0, 'VIDEO')]),
        definition(RENDER, 'Render', [
          node(2, 'ValidateImage', [['image', 'IMAGE', 1]], [['IMAGE', 'IMAGE', 2]], []),
          node(3, 'RunwayI2V', [['image', 'IMAGE', 2]], [['TASK', 'TASK', 3]], ['runway', 'gen4_turbo', prompt, '1280:720', 5, 42, 'fixed', false]),
          node(7, 'Poll', [['task', 'TASK', 3]], [['VIDEO', 'VIDEO', 9]], [0.05, 1]),
        ], [link(1, -10, 0, 2, 0, 'IMAGE'), link(2, 2, 0, 3, 0, 'IMAGE'), link(3, 3, 0, 7, 0, 'TASK'), link(9, 7, 0, -20, 0, 'VIDEO')]),
      ],
    },
  };
}

describe('runtime errors inside subgraphs name the subgraph path', () => {
  it('`reelgraph run`: a Poll timeout in our own nodes reads subgraph "Animate" › subgraph "Render" › node 7 (Poll)', async () => {
    const box = await makeSandbox(emulator.url);
    try {
      const file = await placeWorkflow(box, 'nested-timeout.json', JSON.stringify(ownNodesNested('A slow tide [slow]')));
      const before = emulator.creates();
      const result = await runCli(['run', file, '--output-dir', box.output], box);
      expect(result.code).toBe(1);
      expect(emulator.creates() - before).toBe(1);
      expect(result.stderr).toContain('Failed: subgraph "Animate" › subgraph "Render" › node 7 (Poll): runway task ');
      expect(result.stderr).toContain('did not finish within timeout_s=1');
      expect(result.stderr).not.toMatch(/Node "10:5:7"/);
    } finally {
      await box.cleanup();
    }
  });

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
      // The id stays an execution id inside instance 10 (the Poll added for node 7), which clients use to find the node.
      expect(String(error.node_id)).toMatch(/^10:5:\d+$/);
    } finally {
      await serve.stop();
      await box.cleanup();
    }
  });
});
