import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, type AnyNodeDefinition, type ValidationContext } from '../../../src/engine/define-node.js';
import { formatIssue } from '../../../src/engine/errors.js';
import { apiToGraph, parseWorkflow, type ApiPrompt } from '../../../src/comfy/index.js';
import { NodeRegistry } from '../../../src/engine/registry.js';
import { validateGraph } from '../../../src/engine/validate.js';
import { fixtureNodes, testNodes } from '../../helpers/test-nodes.js';

const files = { inputDir: '/nonexistent/in', outputDir: '/nonexistent/out' };
const options = { files, env: {} };

const longList = defineNode({
  type: 'TestLongCombo',
  version: 1,
  displayName: 'Long combo',
  category: 'test',
  description: 'A combo with 25 options.',
  inputs: {},
  params: z.object({ pick: z.enum(Array.from({ length: 25 }, (_, i) => `o${i}`) as [string, ...string[]]) }),
  outputs: [],
  outputNode: true,
  run: async () => ({}),
});

const throwing = defineNode({
  type: 'TestThrowingCheck',
  version: 1,
  displayName: 'Throws in validate',
  category: 'test',
  description: 'validate() throws.',
  inputs: {},
  params: z.object({}),
  outputs: [],
  outputNode: true,
  validate: () => {
    throw new Error('disk on fire');
  },
  run: async () => ({}),
});

const registry = new NodeRegistry([...testNodes(), ...fixtureNodes(), longList, throwing]);

/** Source 1 → Work 2 → Sink 3, with overrides per node. */
function chain(overrides: Record<string, Partial<ApiPrompt[string]>> = {}): ApiPrompt {
  const prompt: ApiPrompt = {
    '1': { class_type: 'TestSource', inputs: { value: 'v', seed: 1 } },
    '2': { class_type: 'TestWork', inputs: { image: ['1', 0], tag: 't' } },
    '3': { class_type: 'TestSink', inputs: { task: ['2', 0] } },
  };
  for (const [id, patch] of Object.entries(overrides)) {
    const base = prompt[id] ?? { class_type: 'TestSink', inputs: {} };
    prompt[id] = { ...base, ...patch, inputs: { ...base.inputs, ...patch.inputs } };
  }
  return prompt;
}

async function issuesOf(prompt: ApiPrompt, reg = registry) {
  return validateGraph(apiToGraph(prompt), reg, options);
}

describe('validateGraph: one test per error type', () => {
  it('passes a valid graph', async () => {
    const { params, ...result } = await issuesOf(chain());
    expect(result).toEqual({ ok: true, issues: [], comfy: null });
    // Each node's params as checked, with defaults filled in: what the executor runs with.
    expect(params?.get('1')).toMatchObject({ seed: 1, value: 'v' });
  });

  it.each([
    ['required_input_missing (socket)', chain({ '2': { inputs: { image: 'not a link' } } }), '2', 'image', 'required_input_missing', /image \(IMAGE\) is not connected/],
    ['required_input_missing (param without default)', { '1': { class_type: 'LoadImage', inputs: {} }, '2': { class_type: 'SaveVideo', inputs: {} } }, '1', 'image', 'required_input_missing', /image has no value/],
    ['return_type_mismatch', chain({ '3': { inputs: { task: ['1', 0] } } }), '3', 'task', 'return_type_mismatch', /task expects TASK but node "1" \(TestSource\) output IMAGE gives IMAGE/],
    ['dangling_link to a missing node', chain({ '3': { inputs: { task: ['42', 0] } } }), '3', 'task', 'dangling_link', /node "42", which is not in the workflow/],
    ['dangling_link to a missing output slot', chain({ '3': { inputs: { task: ['2', 3] } } }), '3', 'task', 'dangling_link', /output 3 of node "2" \(TestWork\), which has 1 output/],
    ['value_not_in_list', chain({ '2': { inputs: { mode: 'maybe' } } }), '2', 'mode', 'value_not_in_list', /'maybe' not in \['ok', 'fail'\]/],
    ['value_not_in_list over 20 options', { '1': { class_type: 'TestLongCombo', inputs: { pick: 'zz' } } }, '1', 'pick', 'value_not_in_list', /'zz' not in \(list of length 25\)/],
    ['value_smaller_than_min', chain({ '1': { inputs: { seed: -1 } } }), '1', 'seed', 'value_smaller_than_min', /^-1, limit 0$/],
    ['value_bigger_than_max (number)', chain({ '1': { inputs: { seed: 101 } } }), '1', 'seed', 'value_bigger_than_max', /^101, limit 100$/],
    ['value_bigger_than_max (string length)', chain({ '2': { inputs: { tag: 'x'.repeat(12) } } }), '2', 'tag', 'value_bigger_than_max', /^12 characters, limit 10$/],
    ['invalid_input_type', chain({ '1': { inputs: { seed: 'abc' } } }), '1', 'seed', 'invalid_input_type', /expected number, received 'abc'/],
    ['invalid_input_type (not an integer)', chain({ '1': { inputs: { seed: 1.5 } } }), '1', 'seed', 'invalid_input_type', /received 1\.5/],
    ['custom_validation_failed from validate()', chain({ '2': { inputs: { tag: 'invalid' } } }), '2', 'tag', 'custom_validation_failed', /tag "invalid" is refused/],
    ['exception_during_validation', { '1': { class_type: 'TestThrowingCheck', inputs: {} } }, '1', undefined, 'exception_during_validation', /validate\(\) threw: disk on fire/],
    ['unsupported_node_version', chain({ '2': { _meta: { version: 3 } } }), '2', undefined, 'unsupported_node_version', /saved with version 3, this runtime has version 2/],
  ])('%s', async (_name, prompt, nodeId, field, type, details) => {
    const result = await issuesOf(prompt as ApiPrompt);
    expect(result.ok).toBe(false);
    const issue = result.issues.find((i) => i.type === type);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue!.nodeId).toBe(nodeId);
    expect(issue!.field).toBe(field);
    expect(issue!.details).toMatch(details);
    expect(result.comfy!.node_errors[nodeId]!.errors.map((e) => e.type)).toContain(type);
  });

  it('reports every unknown type in one prompt-level issue plus one per node', async () => {
    const result = await issuesOf(chain({ '4': { class_type: 'KSampler' }, '5': { class_type: 'CLIPTextEncode' }, '6': { class_type: 'KSampler' } }));
    const prompt = result.issues.filter((i) => i.nodeId === undefined);
    expect(prompt).toHaveLength(1);
    expect(prompt[0]).toMatchObject({ type: 'invalid_prompt' });
    expect(prompt[0]!.details).toMatch(/^"KSampler", "CLIPTextEncode" \(known types: TestSource/);
    expect(result.issues.filter((i) => i.type === 'missing_node_type').map((i) => i.nodeId)).toEqual(['4', '5', '6']);
    expect(result.comfy!.error.type).toBe('invalid_prompt');
  });

  it('says that a subgraph instance is not supported rather than unknown', async () => {
    const result = await issuesOf(chain({ '4': { class_type: '3f2a9c1e-7b4d-4e8a-9c2f-1d5e6b7a8c9d' } }));
    expect(result.issues.find((i) => i.type === 'missing_node_type')!.details).toMatch(/is a subgraph instance; subgraphs are not supported yet/);
  });

  it('reports a cycle with its path', async () => {
    const result = await issuesOf({
      '1': { class_type: 'TestWork', inputs: { image: ['2', 0] } },
      '2': { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
      '3': { class_type: 'TestSink', inputs: { task: ['1', 0] } },
    });
    const cycle = result.issues.find((i) => i.type === 'dependency_cycle');
    expect(cycle?.details).toBe('1 (TestWork) -> 2 (ValidateImage) -> 1 (TestWork)');
  });

  it('reports prompt_no_outputs', async () => {
    const result = await issuesOf({ '1': { class_type: 'TestSource', inputs: {} } });
    expect(result.issues.map((i) => [i.type, i.nodeId])).toEqual([['prompt_no_outputs', undefined]]);
    expect(result.comfy!.error).toMatchObject({ type: 'prompt_no_outputs', message: 'Prompt has no outputs' });
  });

  it('ignores unknown params', async () => {
    expect((await issuesOf(chain({ '2': { inputs: { colour: 'red' } } }))).ok).toBe(true);
  });

  it('does not call validate() for a node whose params failed', async () => {
    const result = await issuesOf(chain({ '2': { inputs: { tag: 'invalid', mode: 'maybe' } } }));
    expect(result.issues.map((i) => i.type)).toEqual(['value_not_in_list']);
  });
});

describe('validateGraph: the ComfyUI shape and the context', () => {
  it('groups issues per node with dependent outputs, and messages name node, type, field and limit', async () => {
    const result = await issuesOf(chain({ '1': { inputs: { seed: 500 } }, '4': { class_type: 'TestSink', inputs: { task: ['2', 0] } } }));
    expect(result.comfy).toEqual({
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: 'seed: 500, limit 100', extra_info: {} },
      node_errors: {
        '1': {
          class_type: 'TestSource',
          dependent_outputs: ['3', '4'],
          errors: [{ type: 'value_bigger_than_max', message: 'Value bigger than max', details: '500, limit 100', extra_info: { input_name: 'seed', received_value: 500 } }],
        },
      },
    });
    expect(formatIssue(result.issues[0]!)).toBe('Node "1" (TestSource) seed: Value bigger than max: 500, limit 100');
  });

  it('gives validate() the parsed params of upstream and downstream nodes', async () => {
    const seen: { upstream?: unknown; downstream?: unknown; env?: unknown } = {};
    const spy: AnyNodeDefinition = {
      ...testNodes().find((d) => d.type === 'TestWork')!,
      validate(_params, ctx: ValidationContext) {
        seen.upstream = ctx.upstream('image');
        seen.downstream = ctx.downstream();
        seen.env = ctx.env.MY_KEY;
        return [];
      },
    };
    const reg = new NodeRegistry([...testNodes().filter((d) => d.type !== 'TestWork'), spy]);
    await validateGraph(apiToGraph(chain()), reg, { files, env: { MY_KEY: 'present' } });
    expect(seen).toEqual({
      upstream: { type: 'TestSource', params: { value: 'v', seed: 1 } },
      downstream: [{ type: 'TestSink', params: { prefix: 'out' } }],
      env: 'present',
    });
  });

  it('reports every problem of the invalid fixture at once', async () => {
    const doc = JSON.parse(await readFile(join(import.meta.dirname, '../../fixtures/workflows/invalid-many-problems.v04.json'), 'utf8')) as unknown;
    const result = await validateGraph(parseWorkflow(doc, registry).graph, registry, options);
    expect(result.issues.map((i) => `${i.nodeId ?? '-'} ${i.type} ${i.field ?? ''}`.trim())).toEqual([
      '- invalid_prompt',
      '6 missing_node_type',
      '3 value_not_in_list ratio',
      '3 value_not_in_list duration',
      '3 value_smaller_than_min seed',
    ]);
  });
});
