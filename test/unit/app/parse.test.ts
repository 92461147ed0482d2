import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseUserWorkflow } from '../../../src/app/parse.js';
import { convertWorkflow } from '../../../src/comfy/index.js';
import { validateGraph } from '../../../src/engine/validate.js';
import { formatIssue } from '../../../src/engine/errors.js';
import { createNodeRegistry } from '../../../src/nodes/index.js';

/** ComfyUI's subgraphs, primitives and object widgets_values, read as its frontend reads them (docs/comfyui.md "Subgraphs…"). */

const registry = createNodeRegistry();
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../fixtures/comfyui/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const i2vOf = (name: string, provider?: 'runway' | 'cometapi' | 'runcomfy') =>
  [...parseUserWorkflow(fixture(name), registry, provider).graph.nodes.values()].find((node) => node.type === 'RunwayI2V')!;

describe('subgraphs', () => {
  it('flattens a Runway node inside a nested subgraph, with the promoted prompt and a path-shaped id', () => {
    const parsed = parseUserWorkflow(fixture('runway-nested-subgraph.v1.json'), registry);
    const i2v = [...parsed.graph.nodes.values()].find((node) => node.type === 'RunwayI2V')!;
    expect(i2v.id).toBe('10:5:7');
    expect(i2v.where).toBe('subgraph "Animate" › subgraph "Runway call" › node 7');
    expect(i2v.params).toMatchObject({
      provider: 'runway', model: 'gen4_turbo', promptText: 'A paper boat drifts down a rain-soaked gutter, macro, slow push in',
      ratio: '960:960', duration: 5, seed: 31337,
    });
    const validate = parsed.graph.nodes.get(i2v.inputs.image!.from)!;
    expect(validate.type).toBe('ValidateImage');
    expect(parsed.graph.nodes.get(validate.inputs.image!.from)!.type).toBe('LoadImage');
    const save = [...parsed.graph.nodes.values()].find((node) => node.type === 'SaveVideo')!;
    expect(parsed.graph.nodes.get(save.inputs.video!.from)!.type).toBe('Poll');
    // No instance and no primitive is a node at run time.
    expect([...parsed.graph.nodes.values()].map((node) => node.type).sort()).toEqual(['LoadImage', 'Poll', 'RunwayI2V', 'SaveVideo', 'ValidateImage']);
    expect(parsed.opened).toEqual(fixture('runway-nested-subgraph.v1.json'));
  });

  it('names a problem inside a subgraph by its path', async () => {
    const doc = fixture('runway-nested-subgraph.v1.json');
    const outer = (doc.nodes as { id: number; widgets_values: unknown[] }[]).find((node) => node.id === 10)!;
    outer.widgets_values = ['x'.repeat(1001)];
    const parsed = parseUserWorkflow(doc, registry);
    const result = await validateGraph(parsed.graph, registry, { files: { inputDir: '/nonexistent', outputDir: '/tmp' }, env: {} });
    const line = result.issues.map(formatIssue).find((text) => text.includes('promptText'));
    expect(line).toMatch(/^subgraph "Animate" › subgraph "Runway call" › node 7 \(RunwayI2V\) promptText/);
  });

  it('names the ValidateImage and Poll added for a mapped Runway node by that node\'s path', () => {
    const parsed = parseUserWorkflow(fixture('runway-nested-subgraph.v1.json'), registry);
    const added = [...parsed.graph.nodes.values()].filter((node) => node.type === 'Poll' || node.type === 'ValidateImage');
    expect(added.map((node) => node.where)).toEqual(['subgraph "Animate" › subgraph "Runway call" › node 7', 'subgraph "Animate" › subgraph "Runway call" › node 7']);
    // Their ids carry the instance prefix, as ComfyUI names every node inside a subgraph.
    for (const node of added) expect(node.id).toMatch(/^10:5:\d+$/);
    // Root nodes keep their plain id.
    expect([...parsed.graph.nodes.values()].find((node) => node.type === 'SaveVideo')!.where).toBeUndefined();
  });

  it('keeps the definitions unchanged on re-save', () => {
    const doc = fixture('runway-nested-subgraph.v1.json');
    const saved = convertWorkflow(doc, 'ui', registry);
    expect(saved.definitions).toEqual(doc.definitions);
    expect(saved.nodes).toEqual(doc.nodes);
  });

  it('refuses a subgraph that contains itself', () => {
    const doc = fixture('runway-nested-subgraph.v1.json');
    const defs = (doc.definitions as { subgraphs: { id: string; nodes: { type: string }[] }[] }).subgraphs;
    defs[1]!.nodes[0]!.type = defs[0]!.id;
    defs[0]!.nodes[0]!.type = defs[0]!.id;
    expect(() => parseUserWorkflow(doc, registry)).toThrow(/nested more than 32 deep/);
  });
});

describe('PrimitiveNode', () => {
  it('its value flows into the target widget and it is never a node', () => {
    const parsed = parseUserWorkflow(fixture('primitive-prompt.v04.json'), registry);
    expect(parsed.graph.nodes.has('9')).toBe(false);
    expect(parsed.graph.nodes.get('3')!.params).toMatchObject({ promptText: 'A lantern floats over a dark lake, slow pan to the left', ratio: '720:1280', duration: 10, seed: 2024 });
    expect(parsed.api['3']!.inputs.promptText).toBe('A lantern floats over a dark lake, slow pan to the left');
  });

  it('feeds a ComfyUI Runway node too (the mapped RunwayI2V gets its value)', () => {
    const doc = fixture('template-resaved-reroutes.v1.json');
    const nodes = doc.nodes as Record<string, unknown>[];
    nodes.push({
      id: 20, type: 'PrimitiveNode', mode: 0, inputs: [], properties: {}, widgets_values: ['From the primitive', 'fixed'],
      outputs: [{ name: 'connect to widget input', type: 'STRING', links: [30], widget: { name: 'prompt' } }],
    });
    (nodes[1]!.inputs as unknown[]).push({ name: 'prompt', type: 'STRING', link: 30, widget: { name: 'prompt' } });
    (doc.links as unknown[]).push({ id: 30, origin_id: 20, origin_slot: 0, target_id: 8, target_slot: 1, type: 'STRING' });
    const parsed = parseUserWorkflow(doc, registry);
    expect(parsed.graph.nodes.get('8')!.params.promptText).toBe('From the primitive');
    expect(parsed.graph.nodes.has('20')).toBe(false);
  });
});

describe('widgets_values as an object', () => {
  it('is read by name', () => {
    const parsed = parseUserWorkflow(fixture('object-widgets.v04.json'), registry);
    expect(parsed.graph.nodes.get('3')!.params).toEqual({
      provider: 'runway', model: 'gen4_turbo', promptText: 'Snow settles on a quiet tram stop at dawn', ratio: '960:960', duration: 5, seed: 4242, watermark: false,
    });
    expect(parsed.graph.nodes.get('1')!.params).toEqual({ image: 'images/sunset.jpg' });
  });

  it('a value that cannot be placed is refused, naming the node and the widget', () => {
    const doc = fixture('object-widgets.v04.json');
    (doc.nodes as { id: number; widgets_values: Record<string, unknown> }[])[2]!.widgets_values.prompt = 'typo for promptText';
    expect(() => parseUserWorkflow(doc, registry)).toThrow(/Node "3" \(RunwayI2V\): the saved widget value "prompt" cannot be placed/);
  });
});

describe('a re-saved template with groups, native reroutes and a note', () => {
  it('runs the Runway node with its values', () => {
    const i2v = i2vOf('template-resaved-reroutes.v1.json');
    expect(i2v.params).toMatchObject({ promptText: 'A man turns to the camera', duration: 10, ratio: '1280:720', seed: 549931386 });
  });
});

describe('retired Runway models', () => {
  it('the Gen3a node on --provider runway: one sentence with what was retired, when, and who still offers it', async () => {
    const parsed = parseUserWorkflow(fixture('runway-gen3a-i2v-v1.json'), registry, 'runway');
    const result = await validateGraph(parsed.graph, registry, { files: { inputDir: '/nonexistent', outputDir: '/tmp' }, env: {} });
    const line = result.issues.map(formatIssue).find((text) => text.includes(' model'))!;
    expect(line).toContain('Runway retired Gen-3 Alpha Turbo (gen3a_turbo) and first/last-frame video on 2026-07-30; gen3a_turbo is still offered by runcomfy and cometapi');
  });

  it('RunwayFirstLastFrameNode is refused with the same facts, not as an unknown type', () => {
    const doc = fixture('template-resaved-reroutes.v1.json');
    (doc.nodes as { id: number; type: string }[])[1]!.type = 'RunwayFirstLastFrameNode';
    expect(() => parseUserWorkflow(doc, registry)).toThrow(
      /^Node "8" \(RunwayFirstLastFrameNode\): Runway retired Gen-3 Alpha Turbo and first\/last-frame video on 2026-07-30; runcomfy and cometapi still offer gen3a_turbo/,
    );
  });
});
