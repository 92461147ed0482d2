import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importComfyWorkflow, isComfyRunwayWorkflow } from '../../../src/sharing/comfy-runway-import.js';
import { convertWorkflow, parseWorkflow } from '../../../src/comfy/index.js';
import { createNodeRegistry } from '../../../src/nodes/index.js';

const registry = createNodeRegistry();
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(resolve('test/fixtures/comfyui', name), 'utf8')) as Record<string, unknown>;

type UiNode = { id: number; type: string; mode: number; widgets_values: unknown[]; properties: Record<string, unknown> };

describe('importComfyWorkflow', () => {
  it('maps a v0.4 Gen4 workflow to ValidateImage → RunwayI2V → Poll, through the bypassed node', () => {
    const source = fixture('runway-gen4-i2v.json');
    expect(isComfyRunwayWorkflow(source)).toBe(true);
    const result = importComfyWorkflow(source, { provider: 'runcomfy', registry });
    expect(result.mapped).toEqual(['8']);
    expect(result.unsupported).toEqual([]);
    const parsed = parseWorkflow(result.json, registry);
    const nodes = [...parsed.graph.nodes.values()];
    expect(nodes.map((n) => n.type).sort()).toEqual(['LoadImage', 'Poll', 'RunwayI2V', 'SaveVideo', 'ValidateImage']);
    const runway = parsed.graph.nodes.get('8')!;
    expect(runway.params).toMatchObject({
      provider: 'runcomfy',
      model: 'gen4_turbo',
      promptText: 'The sun sinks behind the ridge, slow dolly in',
      ratio: '1280:720',
      duration: 5,
      seed: 549931386,
      watermark: false,
    });
    const validate = nodes.find((n) => n.type === 'ValidateImage')!;
    const poll = nodes.find((n) => n.type === 'Poll')!;
    // The bypassed ImageScaleBy passes the LoadImage straight through.
    expect(validate.inputs.image).toEqual({ from: '4', slot: 0 });
    expect(runway.inputs.image).toEqual({ from: validate.id, slot: 0 });
    expect(poll.inputs.task).toEqual({ from: '8', slot: 0 });
    expect(parsed.graph.nodes.get('6')!.inputs.video).toEqual({ from: poll.id, slot: 0 });
    expect(parsed.graph.nodes.get('6')!.params).toEqual({ filename_prefix: 'video/ComfyUI', format: 'auto', codec: 'auto' });
  });

  it('keeps the control value, the note, the bypassed node, extra.ds and the ids on re-save', () => {
    const source = fixture('runway-gen4-i2v.json');
    const imported = importComfyWorkflow(source, { registry }).json as Record<string, unknown>;
    const saved = convertWorkflow(imported, 'ui', registry) as { nodes: UiNode[]; extra: unknown; last_node_id: number; last_link_id: number };
    const byId = new Map(saved.nodes.map((n) => [n.id, n]));
    expect(byId.get(8)!.widgets_values).toContain('randomize');
    expect(byId.get(8)!.properties).toMatchObject({ 'Node name for S&R': 'RunwayI2V', reelgraph_imported_from: 'RunwayImageToVideoNodeGen4' });
    expect(byId.get(10)!.type).toBe('Note');
    expect(byId.get(9)).toMatchObject({ type: 'ImageScaleBy', mode: 4, widgets_values: ['nearest-exact', 0.5] });
    expect(saved.extra).toEqual({ ds: { scale: 1.1, offset: [-1300.5, -1080.25] }, frontendVersion: '1.29.2' });
    expect(saved.last_node_id).toBe(12);
    expect(saved.last_link_id).toBe(10);
    expect(source.nodes).toEqual(fixture('runway-gen4-i2v.json').nodes); // the input was not changed
  });

  it('maps a v1 Gen3a workflow (link objects) to gen3a_turbo', () => {
    const result = importComfyWorkflow(fixture('runway-gen3a-i2v-v1.json'), { provider: 'cometapi', registry });
    const json = result.json as { links: { origin_id: number; target_id: number; type: string }[]; state: { lastNodeId: number } };
    expect(json.state.lastNodeId).toBe(5);
    expect(json.links.every((l) => typeof l === 'object' && !Array.isArray(l))).toBe(true);
    const parsed = parseWorkflow(json, registry);
    expect(parsed.graph.nodes.get('2')!.params).toMatchObject({ provider: 'cometapi', model: 'gen3a_turbo', ratio: '1280:768', duration: 10, seed: 12345 });
  });

  it('maps an API prompt and redirects the video consumers to the Poll node', () => {
    const result = importComfyWorkflow(fixture('runway-gen4-api.json'), { registry });
    const parsed = parseWorkflow(result.json, registry);
    expect(parsed.format).toBe('api');
    const types = Object.fromEntries([...parsed.graph.nodes.values()].map((n) => [n.id, n.type]));
    expect(types).toEqual({ '4': 'LoadImage', '6': 'SaveVideo', '8': 'RunwayI2V', '9': 'ValidateImage', '10': 'Poll' });
    expect(parsed.graph.nodes.get('6')!.inputs.video).toEqual({ from: '10', slot: 0 });
    expect(parsed.graph.nodes.get('8')!.params).toMatchObject({ provider: 'runway', model: 'gen4_turbo', promptText: 'A man turns to the camera' });
  });

  it('lists every unsupported node type and still loads the graph with placeholders', () => {
    const result = importComfyWorkflow(fixture('mixed-unknown-nodes.json'), { registry });
    // The muted UpscaleModelLoader and the MarkdownNote never run, so they are not listed.
    expect(result.unsupported).toEqual([
      { id: '1', type: 'CheckpointLoaderSimple' },
      { id: '2', type: 'KSampler' },
      { id: '3', type: 'VAEDecode' },
    ]);
    const parsed = parseWorkflow(result.json, registry);
    expect(parsed.graph.nodes.get('2')!.rawWidgets).toEqual([156680208700286, 'randomize', 20, 8, 'euler', 'normal', 1]);
    const saved = convertWorkflow(result.json, 'ui', registry) as { nodes: UiNode[] };
    expect(saved.nodes.find((n) => n.id === 2)!.widgets_values).toEqual([156680208700286, 'randomize', 20, 8, 'euler', 'normal', 1]);
  });

  it('keeps a bypassed or muted Runway node inactive, with its new ValidateImage and Poll', () => {
    const source = fixture('runway-gen4-i2v.json') as { nodes: { id: number; mode: number }[] };
    source.nodes.find((n) => n.id === 8)!.mode = 4;
    const imported = importComfyWorkflow(source, { registry }).json as { nodes: UiNode[] };
    const added = imported.nodes.filter((n) => n.type === 'ValidateImage' || n.type === 'Poll' || n.id === 8);
    expect(added.map((n) => n.mode)).toEqual([4, 4, 4]);
    const parsed = parseWorkflow(imported, registry);
    expect([...parsed.graph.nodes.values()].map((n) => n.type).sort()).toEqual(['LoadImage', 'SaveVideo']);
  });

  it('leaves workflows without ComfyUI Runway nodes alone', () => {
    const ours = JSON.parse(readFileSync(resolve('examples/runway-gen4-turbo.json'), 'utf8')) as unknown;
    expect(isComfyRunwayWorkflow(ours)).toBe(false);
    expect(isComfyRunwayWorkflow({ nodes: [{ id: 1, type: 'toString' }, { id: 2, type: 'constructor' }] })).toBe(false);
    expect(importComfyWorkflow(ours, { registry })).toEqual({ json: ours, mapped: [], unsupported: [] });
  });
});
