import { describe, expect, it } from 'vitest';
import { apiToGraph, parseWorkflow, type ApiPrompt } from '../../../src/comfy/index.js';
import { validateGraph } from '../../../src/engine/validate.js';
import { fixtureRegistry } from '../../helpers/test-nodes.js';

/**
 * Big files are untrusted input too: a 700k-node prompt (about 60 MB, under the 64 MB limit) must validate without
 * "Maximum call stack size exceeded" (deep recursion, `push(...spread)`) and without quadratic scans. Generated here.
 */

const options = { files: { inputDir: '/nonexistent/in', outputDir: '/nonexistent/out' }, env: {} };

/** LoadImage → `count` ValidateImage pass-throughs in one chain → RunwayI2V → Poll → SaveVideo. */
function longChain(count: number, version?: number): ApiPrompt {
  const prompt: ApiPrompt = { '1': { class_type: 'LoadImage', inputs: { image: 'in.png' } } };
  for (let i = 2; i < count + 2; i++) {
    prompt[String(i)] = { class_type: 'ValidateImage', inputs: { image: [String(i - 1), 0] }, ...(version ? { _meta: { version } } : {}) };
  }
  const last = count + 1;
  prompt[String(last + 1)] = { class_type: 'RunwayI2V', inputs: { image: [String(last), 0] } };
  prompt[String(last + 2)] = { class_type: 'Poll', inputs: { task: [String(last + 1), 0] } };
  prompt[String(last + 3)] = { class_type: 'SaveVideo', inputs: { video: [String(last + 2), 0] } };
  return prompt;
}

describe('validateGraph on big files', () => {
  it('validates a 700k-node chain (no stack overflow, right result)', async () => {
    const prompt = longChain(700_000);
    expect(JSON.stringify(prompt).length).toBeLessThan(64 * 1024 * 1024);
    const graph = apiToGraph(prompt);
    expect(graph.nodes.size).toBe(700_004);
    const result = await validateGraph(graph, fixtureRegistry(), options);
    expect(result.issues).toEqual([]);
    expect(result.ok).toBe(true);
  }, 300_000);

  it('parses a 100k-node prompt from its JSON text through the ComfyUI reader', () => {
    const parsed = parseWorkflow(JSON.parse(JSON.stringify(longChain(100_000))), fixtureRegistry());
    expect(parsed.graph.nodes.size).toBe(100_004);
  }, 120_000);

  it('reports every one of 50k problems, and closes a cycle at the end of a 50k chain', async () => {
    const prompt = longChain(50_000, 2);
    // The first pass-through now reads from the last one: one cycle through the whole chain.
    prompt['2'] = { class_type: 'ValidateImage', inputs: { image: ['50001', 0] }, _meta: { version: 2 } };
    const result = await validateGraph(apiToGraph(prompt), fixtureRegistry(), options);
    expect(result.ok).toBe(false);
    const versions = result.issues.filter((issue) => issue.type === 'unsupported_node_version');
    expect(versions).toHaveLength(50_000);
    const cycle = result.issues.find((issue) => issue.type === 'dependency_cycle');
    expect(cycle?.extra_info?.cycle).toHaveLength(50_001);
    expect((cycle?.extra_info?.cycle as string[])[0]).toBe('2');
    expect(Object.keys(result.comfy!.node_errors)).toHaveLength(50_000);
  }, 120_000);
});
