import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectRefused, openSandbox, type Sandbox } from './harness.js';
import { exampleWorkflow, writeWorkflow, type ExampleWorkflow } from './workflows.js';

/** One shared file asking for many paid jobs: --max-cost / REELGRAPH_MAX_COST refuse before the first create. */

let box: Sandbox;
beforeAll(async () => {
  box = await openSandbox();
});
afterAll(async () => box?.close());
beforeEach(() => box.emulator.reset());

/** The example's chain copied `copies` times (fresh ids and links), so each copy is a paid job. */
function copies(workflow: ExampleWorkflow, count: number): ExampleWorkflow {
  const nodes: ExampleWorkflow['nodes'] = [];
  const links: unknown[][] = [];
  for (let c = 0; c < count; c++) {
    const offset = c * 100;
    for (const node of workflow.nodes) {
      const copy = structuredClone(node);
      copy.id = Number(node.id) + offset;
      copy.inputs = copy.inputs?.map((input) => ({ ...input, link: input.link === null ? null : input.link + offset }));
      copy.outputs = copy.outputs?.map((output) => ({ ...output, links: output.links?.map((l) => l + offset) ?? null }));
      if (copy.type === 'RunwayI2V') copy.widgets_values[5] = 1000 + c; // distinct seeds: distinct jobs
      nodes.push(copy);
    }
    for (const link of workflow.links as number[][]) links.push([link[0]! + offset, link[1]! + offset, link[2], link[3]! + offset, link[4], link[5]]);
  }
  return { ...workflow, nodes, links, last_node_id: count * 100, last_link_id: count * 100 };
}

describe('spending limits', () => {
  it('run --max-cost refuses 30 paid jobs before the first create', async () => {
    const file = await writeWorkflow(join(box.work, 'thirty'), 'wf', copies(await exampleWorkflow(), 30));
    const estimate = await box.cli(['run', file, '--dry-run', '--json', '--no-cache']);
    expect(estimate.code, estimate.stderr).toBe(0);
    const plan = JSON.parse(estimate.stdout) as { data: { totalUsd: number; jobs: unknown[] } };
    expect(plan.data.jobs).toHaveLength(30);
    const result = await box.cli(['run', file, '--max-cost', '5', '--no-cache', '--output-dir', join(box.work, 'out')]);
    expectRefused(result, /exceeds the limit of \$5\.00.*nothing was submitted/);
    expect(result.stderr).toContain(`$${plan.data.totalUsd.toFixed(2)} for 30 paid jobs`);
    const fromEnv = await box.cli(['run', file, '--no-cache', '--output-dir', join(box.work, 'out')], { REELGRAPH_MAX_COST: '1.50' });
    expectRefused(fromEnv, /exceeds the limit of \$1\.50/);
    expect(box.emulator.creates()).toBe(0);
  });

  it('a run within the limit goes ahead; a malformed limit is a usage error', async () => {
    const file = await writeWorkflow(join(box.work, 'one'), 'wf', await exampleWorkflow());
    const ok = await box.cli(['run', file, '--max-cost', '100', '--no-cache', '--json', '--output-dir', join(box.work, 'out1')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(box.emulator.creates()).toBe(1);
    expectRefused(await box.cli(['run', file, '--max-cost', 'lots']), /must be a number of US dollars/);
  });
});
