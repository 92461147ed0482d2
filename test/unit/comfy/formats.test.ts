import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkflowParseError } from '../../../src/engine/errors.js';
import {
  apiToGraph,
  convertWorkflow,
  graphToUiWorkflow,
  parseWorkflow,
  toApiPrompt,
  type ParsedWorkflow,
} from '../../../src/comfy/index.js';
import type { Graph, GraphNode } from '../../../src/engine/graph.js';
import { parseWorkflowText } from '../../../src/comfy/read-json.js';
import { fixtureRegistry, testRegistry } from '../../helpers/test-nodes.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/workflows');
const registry = fixtureRegistry();

async function fixture(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

function plain(graph: Graph): Record<string, GraphNode> {
  return Object.fromEntries([...graph.nodes].map(([id, node]) => [id, { ...node }]));
}

const RUNWAY_PARAMS = {
  provider: 'runway',
  model: 'gen4_turbo',
  promptText: 'The sun sinks behind the ridge while the harbour lights come on, slow dolly in',
  ratio: '1280:720',
  duration: 5,
  seed: 42,
  watermark: false,
};

describe('parseWorkflow: the three formats', () => {
  it.each([
    ['runway-gen4.v04.json', 'ui'],
    ['runway-gen4.v1.json', 'ui'],
    ['runway-gen4.api.json', 'api'],
  ])('reads %s into the same graph', async (name, format) => {
    const parsed = parseWorkflow(await fixture(name), registry);
    expect(parsed.format).toBe(format);
    expect([...parsed.graph.nodes.keys()]).toEqual(['1', '2', '3', '4', '5']);
    const runway = parsed.graph.nodes.get('3')!;
    expect(runway.params).toEqual(RUNWAY_PARAMS);
    expect(runway.inputs).toEqual({ image: { from: '2', slot: 0 } });
    expect(parsed.graph.nodes.get('5')!.params).toEqual({ filename_prefix: 'reelgraph/runway_gen4', format: 'auto', codec: 'auto' });
    expect(parsed.graph.nodes.get('4')!.inputs).toEqual({ task: { from: '3', slot: 0 } });
  });

  it('maps LoadImage past its upload slot and RunwayI2V past the control value after seed', async () => {
    const parsed = parseWorkflow(await fixture('two-providers.v04.json'), registry);
    expect(parsed.graph.nodes.get('1')!.params).toEqual({ image: 'input.png' });
    expect(parsed.graph.nodes.get('6')!.params).toMatchObject({ seed: 7, watermark: true, duration: 10 });
  });

  it('keeps the original UI document and derives the API prompt from the graph', async () => {
    const doc = await fixture('runway-gen4.v04.json');
    const parsed = parseWorkflow(doc, registry);
    expect(parsed.ui).toBe(doc);
    expect(parsed.api['3']).toEqual({ class_type: 'RunwayI2V', inputs: { ...RUNWAY_PARAMS, image: ['2', 0] }, _meta: { version: 1 } });
  });

  it('accepts widgets_values written as an object of names', () => {
    const doc = uiDoc([{ id: 1, type: 'Poll', widgets_values: { interval_s: 3, timeout_s: 60 } }], []);
    expect(parseWorkflow(doc, registry).graph.nodes.get('1')!.params).toEqual({ interval_s: 3, timeout_s: 60 });
  });

  it('reads values saved without a control value after seed', () => {
    const doc = uiDoc([{ id: 3, type: 'RunwayI2V', widgets_values: ['runway', 'gen4_turbo', 'p', '960:960', 10, 5, true] }], []);
    expect(parseWorkflow(doc, registry).graph.nodes.get('3')!.params).toMatchObject({ seed: 5, watermark: true });
  });

  it('records the node version from properties.ver', async () => {
    const parsed = parseWorkflow(await fixture('runway-gen4.v1.json'), registry);
    expect(parsed.graph.nodes.get('3')!.version).toBe(1);
  });

  it('refuses a document that is neither format, naming the entry', () => {
    expect(() => parseWorkflow({ '1': { class_type: 'Poll' }, '2': { inputs: {} } }, registry)).toThrow(/entry "2" has no class_type/);
    expect(() => parseWorkflow([1, 2], registry)).toThrow(WorkflowParseError);
  });

  it('names the place of a malformed UI workflow', () => {
    expect(() => parseWorkflow({ nodes: [{ id: 1 }], links: [] }, registry)).toThrow(/nodes\[0\]\.type/);
  });
});

describe('parseWorkflow: links and modes', () => {
  it('resolves target_slot through the saved inputs[], not the definition order', () => {
    // The saved inputs[] lists "extra" first (the definition lists "task" first), as after compressWidgetInputSlots.
    const doc = uiDoc(
      [
        { id: 1, type: 'TestSource', widgets_values: ['a', 1, 'fixed'] },
        { id: 2, type: 'TestWork', inputs: [{ name: 'image', type: 'IMAGE', link: 1 }], widgets_values: ['t', 'ok'] },
        { id: 3, type: 'TestSink', inputs: [{ name: 'extra', type: 'VIDEO' }, { name: 'task', type: 'TASK' }], widgets_values: ['p'] },
      ],
      [[1, 1, 0, 2, 0, 'IMAGE'], [2, 2, 0, 3, 1, 'TASK']],
    );
    const graph = parseWorkflow(doc, testRegistry()).graph;
    expect(graph.nodes.get('3')!.inputs).toEqual({ task: { from: '2', slot: 0 } });
    expect(graph.nodes.get('1')!.params).toEqual({ value: 'a', seed: 1 });
  });

  it('follows a chain of reroutes, skips notes, passes through a bypassed node and drops a muted branch', async () => {
    const parsed = parseWorkflow(await fixture('edited-graph.v04.json'), registry);
    expect([...parsed.graph.nodes.keys()]).toEqual(['1', '3', '4', '5']);
    expect(parsed.graph.nodes.get('3')!.inputs).toEqual({ image: { from: '1', slot: 0 } });
    expect(parsed.graph.nodes.get('3')!.params).toMatchObject({ seed: 99, watermark: false, ratio: '1584:672' });
  });

  it('cuts the links of a muted node so its consumer has no input', () => {
    const doc = uiDoc(
      [
        { id: 1, type: 'LoadImage', widgets_values: ['a.png', 'image'], mode: 2 },
        { id: 2, type: 'ValidateImage', inputs: [{ name: 'image', type: 'IMAGE', link: 1 }] },
      ],
      [[1, 1, 0, 2, 0, 'IMAGE']],
    );
    const graph = parseWorkflow(doc, registry).graph;
    expect([...graph.nodes.keys()]).toEqual(['2']);
    expect(graph.nodes.get('2')!.inputs).toEqual({});
  });

  it('follows a chain of bypassed nodes to the first input of the same type', () => {
    const doc = uiDoc(
      [
        { id: 1, type: 'LoadImage', widgets_values: ['a.png', 'image'] },
        { id: 2, type: 'ValidateImage', mode: 4, inputs: [{ name: 'image', type: 'IMAGE', link: 1 }] },
        { id: 3, type: 'ValidateImage', mode: 4, inputs: [{ name: 'image', type: 'IMAGE', link: 2 }] },
        { id: 4, type: 'RunwayI2V', inputs: [{ name: 'image', type: 'IMAGE', link: 3 }] },
      ],
      [[1, 1, 0, 2, 0, 'IMAGE'], [2, 2, 0, 3, 0, 'IMAGE'], [3, 3, 0, 4, 0, 'IMAGE']],
    );
    expect(parseWorkflow(doc, registry).graph.nodes.get('4')!.inputs).toEqual({ image: { from: '1', slot: 0 } });
  });

  it('keeps a link to a missing node as a dangling link, and an unknown type with its raw widgets', () => {
    const doc = uiDoc(
      [
        { id: 2, type: 'ValidateImage', inputs: [{ name: 'image', type: 'IMAGE', link: 1 }] },
        { id: 3, type: 'KSampler', widgets_values: [1, 'fixed', 20] },
      ],
      [[1, 99, 0, 2, 0, 'IMAGE']],
    );
    const graph = parseWorkflow(doc, registry).graph;
    expect(graph.nodes.get('2')!.inputs).toEqual({ image: { from: '99', slot: 0 } });
    expect(graph.nodes.get('3')).toMatchObject({ type: 'KSampler', params: {}, rawWidgets: [1, 'fixed', 20] });
  });

  it('accepts link objects in a 0.4 file', () => {
    const doc = uiDoc(
      [
        { id: 1, type: 'LoadImage', widgets_values: ['a.png', 'image'] },
        { id: 2, type: 'ValidateImage', inputs: [{ name: 'image', type: 'IMAGE', link: 5 }] },
      ],
      [],
    );
    doc.links = [{ id: 5, origin_id: 1, origin_slot: 0, target_id: 2, target_slot: 0, type: 'IMAGE' }];
    expect(parseWorkflow(doc, registry).graph.nodes.get('2')!.inputs).toEqual({ image: { from: '1', slot: 0 } });
  });

  it('accepts NaN in a workflow, as ComfyUI does', () => {
    const text = '{"nodes":[{"id":1,"type":"Poll","widgets_values":[NaN, 5],"pos":[NaN,0]}],"links":[],"version":0.4}';
    const graph = parseWorkflow(parseWorkflowText(text), registry).graph;
    expect(graph.nodes.get('1')!.params.interval_s).toBeNaN();
  });
});

describe('API format', () => {
  it('recognises links only by the exact [string, integer] shape and unwraps __value__', () => {
    const graph = apiToGraph({
      '1': { class_type: 'TestSource', inputs: { value: 'v', seed: 3 } },
      '2': { class_type: 'TestWork', inputs: { image: ['1', 0], tag: [1, 0], list: { __value__: ['a', 0] } }, _meta: { title: 'Work' } },
    });
    const work = graph.nodes.get('2')!;
    expect(work.inputs).toEqual({ image: { from: '1', slot: 0 } });
    expect(work.params).toEqual({ tag: [1, 0], list: ['a', 0] });
    expect(work.title).toBe('Work');
    expect(toApiPrompt(graph)['2']!.inputs).toEqual({ tag: { __value__: [1, 0] }, list: { __value__: ['a', 0] }, image: ['1', 0] });
  });

  it('keeps inputs and params in records that inherit nothing, whatever a key is called', () => {
    // A prompt built in code (files refuse these keys when read): names that are members of Object.prototype.
    const inputs = JSON.parse('{"__proto__": ["1", 0], "constructor": 5, "hasOwnProperty": "x"}') as Record<string, unknown>;
    const node = apiToGraph({ '1': { class_type: 'TestSource', inputs: {} }, '2': { class_type: 'TestWork', inputs } }).nodes.get('2')!;
    expect(Object.keys(node.inputs)).toEqual(['__proto__']);
    expect(node.inputs['__proto__']).toEqual({ from: '1', slot: 0 });
    expect(node.params).toEqual({ constructor: 5, hasOwnProperty: 'x' });
    expect(node.params.toString).toBeUndefined();
    expect(node.inputs.valueOf).toBeUndefined();
  });
});

describe('conversion', () => {
  it('converts API to a UI workflow with control and upload values and an auto layout', async () => {
    const ui = convertWorkflow(await fixture('runway-gen4.api.json'), 'ui', registry);
    expect(ui.version).toBe(0.4);
    const nodes = ui.nodes as { id: number; type: string; pos: number[]; widgets_values: unknown[]; inputs: { link: number | null }[] }[];
    expect(nodes.find((n) => n.type === 'LoadImage')!.widgets_values).toEqual(['input.png', 'image']);
    expect(nodes.find((n) => n.type === 'RunwayI2V')!.widgets_values).toEqual([
      'runway', 'gen4_turbo', RUNWAY_PARAMS.promptText, '1280:720', 5, 42, 'fixed', false,
    ]);
    expect(nodes.map((n) => n.pos[0])).toEqual([60, 460, 860, 1260, 1660]);
    expect(ui.links).toEqual([[1, 1, 0, 2, 0, 'IMAGE'], [2, 2, 0, 3, 0, 'IMAGE'], [3, 3, 0, 4, 0, 'TASK'], [4, 4, 0, 5, 0, 'VIDEO']]);
    expect(ui.last_link_id).toBe(4);
  });

  it('API → UI → graph gives back the same graph', async () => {
    const parsed = parseWorkflow(await fixture('runway-gen4.api.json'), registry);
    // The API file's "upload" value is LoadImage's upload slot, not a param; unknown params are ignored.
    delete parsed.graph.nodes.get('1')!.params.upload;
    const again = parseWorkflow(graphToUiWorkflow(parsed.graph, registry), registry);
    const strip = (p: ParsedWorkflow) => Object.fromEntries(Object.entries(plain(p.graph)).map(([id, n]) => [id, { ...n, title: undefined, version: undefined }]));
    expect(strip(again)).toEqual(strip(parsed));
  });

  it('UI → API gives the prompt a ComfyUI server takes', async () => {
    const api = convertWorkflow(await fixture('runway-gen4.v1.json'), 'api', registry);
    expect(api['5']).toEqual({ class_type: 'SaveVideo', inputs: { filename_prefix: 'reelgraph/runway_gen4', format: 'auto', codec: 'auto', video: ['4', 0] }, _meta: { version: 1, title: 'Save Video' } });
  });

  it('UI → API writes _meta.title on every node, as ComfyUI\'s Export (API) does (title-based clients read it)', async () => {
    const api = convertWorkflow(await fixture('runway-gen4.v1.json'), 'api', registry) as Record<string, { _meta?: { title?: string } }>;
    expect(Object.values(api).every((node) => typeof node._meta?.title === 'string' && node._meta.title !== '')).toBe(true);
  });

  it('round trip keeps unknown keys at the top, on nodes and on links', async () => {
    const doc = await fixture('runway-gen4.v1.json');
    doc.my_tool = { keep: true };
    (doc.nodes as Record<string, unknown>[])[2]!.my_note = 'kept';
    (doc.links as Record<string, unknown>[])[0]!.parentId = 7;
    const saved = convertWorkflow(doc, 'ui', registry);
    expect(saved).toEqual(doc);
    expect(saved).not.toBe(doc);
  });

  it('a UI re-save writes changed params into widgets_values and keeps the control value', async () => {
    const doc = await fixture('two-providers.v04.json');
    const parsed = parseWorkflow(doc, registry);
    parsed.graph.nodes.get('6')!.params.seed = 8;
    const { updateUiWorkflowParams } = await import('../../../src/comfy/index.js');
    const saved = updateUiWorkflowParams(parsed.ui!, parsed.graph, registry);
    const node = (saved.nodes as { id: number; widgets_values: unknown[] }[]).find((n) => n.id === 6)!;
    expect(node.widgets_values).toEqual(['cometapi', 'gen3a_turbo', 'Clouds drift across a warm sunset', '1280:768', 10, 8, 'randomize', true]);
  });
});

function uiDoc(nodes: Record<string, unknown>[], links: unknown[][]): Record<string, unknown> {
  return { last_node_id: nodes.length, last_link_id: links.length, nodes, links, version: 0.4 };
}
